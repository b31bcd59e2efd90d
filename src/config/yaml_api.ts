/**
 * The part of the `yaml` package's API the config loader uses, described here instead of
 * imported: a type-only import of `npm:yaml` would put the package in mod.ts's module graph
 * (`deno info mod.ts`). tests/package/npm_api_types_test.ts checks the real package against
 * these types.
 *
 * @module
 */

/** A 1-based line and column. */
export interface YamlLinePos {
  /** The line, from 1. */
  line: number;
  /** The column, from 1. */
  col: number;
}

/** Tracks line starts while parsing, to turn offsets into lines and columns. */
export interface YamlLineCounter {
  /** The line and column of a source offset. */
  linePos(offset: number): YamlLinePos;
}

/** A parse error or warning. */
export interface YamlError {
  /** Its code, such as `DUPLICATE_KEY`. */
  code: string;
  /** Its message (several lines with the source shown, unless `prettyErrors: false`). */
  message: string;
  /** Start and end offsets in the source. */
  pos: [number, number];
}

/** A parsed document. */
export interface YamlDocument {
  /** The root node; `null` for a document of comments and blank lines only. */
  contents: unknown;
  /** The syntax errors, in source order. */
  errors: YamlError[];
  /** The document as plain data. */
  toJS(options: { maxAliasCount: number }): unknown;
}

/** An alias node (`*name`). */
export interface YamlAlias {
  /** The anchor's name. */
  source: string;
  /** The node the alias refers to, `undefined` when no anchor has its name. */
  resolve(doc: YamlDocument): unknown;
}

/** A key and its value in a mapping. */
export interface YamlPair {
  /** The key node. */
  key: unknown;
  /** The value node. */
  value: unknown;
}

/** A mapping node. */
export interface YamlMap {
  /** Its pairs, in source order. */
  items: YamlPair[];
}

/** A sequence node. */
export interface YamlSeq {
  /** Its item nodes. */
  items: unknown[];
}

/** A scalar node. */
export interface YamlScalar {
  /** Its value. */
  value: unknown;
}

/** The `yaml` module: the functions and the class the loader calls. */
export interface YamlModule {
  /** Creates a line counter to pass to `parseDocument`. */
  LineCounter: new () => YamlLineCounter;
  /** Parses one document. */
  parseDocument(
    source: string,
    options?: {
      lineCounter?: YamlLineCounter;
      prettyErrors?: boolean;
      /** `true`, or a function of two keys' nodes that says whether they are the same. */
      uniqueKeys?: boolean | ((a: never, b: never) => boolean);
      merge?: boolean;
    },
  ): YamlDocument;
  /** Walks a document's (or a node's) nodes, calling `Alias` for each alias. */
  visit(
    doc: YamlDocument | object | null,
    visitor: { Alias(key: unknown, node: YamlAlias, ancestors: readonly unknown[]): void },
  ): void;
  /** Whether a node is an alias. */
  isAlias(node: unknown): node is YamlAlias;
  /** Whether a node is a mapping. */
  isMap(node: unknown): node is YamlMap;
  /** Whether a node is a scalar. */
  isScalar(node: unknown): node is YamlScalar;
  /** Whether a node is a sequence. */
  isSeq(node: unknown): node is YamlSeq;
}

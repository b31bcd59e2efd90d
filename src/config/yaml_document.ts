/**
 * YAML config text to plain data, keeping where each key is: the one module of the config
 * loader that loads the `yaml` package, imported only when YAML is parsed (importing mod.ts
 * or configuring from an object never loads it; cold import is measured in bench/RESULTS.md).
 *
 * @module
 */

import { importNpm } from "../core/import_npm.ts";
import type { YamlDocument, YamlError, YamlModule } from "./yaml_api.ts";
import type { Issue, Path } from "../schema/schema.ts";
import { ConfigError } from "./config_error.ts";
import { renderPath } from "./render_path.ts";
import { messageOf } from "../core/message_of.ts";

// Loaded with this module (load.ts imports it when YAML is parsed), by a specifier Deno's graph
// does not see: `deno info mod.ts` lists no npm package. The full specifier, not the import
// map's "yaml": a user's script anywhere imports this package, and no import map of theirs
// names "yaml". The range is deno.json's; src/cli/npm_packages.ts names it for the CLI.
const yaml = await importNpm<YamlModule>("npm:yaml@^2.9.1");
const { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } = yaml;

/** The 1-based line and column of the value (or key) at a key path, when known. */
export type Locate = (path: Path, atKey: boolean) => { line: number; col: number } | undefined;

/** A parsed YAML config. */
export interface ParsedYaml {
  /** The document as plain data; `undefined` when `issues` is not empty. */
  value: unknown;
  /** Aliases that refer to no anchor, by key path. */
  issues: Issue[];
  /** Positions key paths in the text. */
  locate: Locate;
}

/**
 * Parses config text. A syntax error (the first; later ones are almost always its echoes) or
 * an empty document throws a {@linkcode ConfigError} at its line and column; an alias without
 * an anchor is returned as an issue, to be positioned with the config's other problems.
 *
 * @example Data and positions
 * ```ts
 * import { parseYaml } from "./yaml_document.ts";
 * import assert from "node:assert/strict";
 * const parsed = parseYaml("sinks:\n  out: { type: memory }\n", "a.yaml");
 * assert.deepEqual(parsed.value, { sinks: { out: { type: "memory" } } });
 * assert.deepEqual(parsed.locate(["sinks", "out", "type"], false), { line: 2, col: 16 });
 * ```
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const syntax = doc.errors[0];
  if (syntax) {
    // Later syntax errors are almost always echoes of the first: report that one clearly.
    const { offset, message, path = [] } = describeYamlError(syntax, text, doc);
    const pos = lines.linePos(offset);
    throw new ConfigError([{
      file,
      line: pos.line,
      col: pos.col,
      path: renderPath(path),
      message,
    }]);
  }
  if (doc.contents === null) {
    // Nothing but comments or blank lines: `run` would start a pipeline that does nothing.
    throw new ConfigError([{
      file,
      line: 1,
      col: 1,
      path: "",
      message: "The config is empty (only comments or blank lines)",
      hint: "declare a source and a sink, such as `sources: { app: { type: logger } }` and " +
        "`sinks: { out: { type: console } }`",
    }]);
  }
  const unresolved: Issue[] = [];
  visit(doc, {
    Alias(_key, node, ancestors) {
      if (node.resolve(doc) === undefined) {
        unresolved.push({
          path: pathOf(ancestors, node),
          message:
            `Invalid YAML: alias "*${node.source}" refers to no anchor; define "&${node.source}" before it`,
        });
      }
    },
  });
  const locate: Locate = (path, atKey) => {
    const offset = offsetOf(doc, path, atKey);
    return offset === undefined ? undefined : lines.linePos(offset);
  };
  if (unresolved.length > 0) return { value: undefined, issues: unresolved, locate };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError([{
      file,
      path: "",
      message: `Invalid YAML: ${firstLine(messageOf(error))}`,
    }], { cause: error });
  }
  return { value, issues: [], locate };
}

/** A syntax error in words a config author acts on, at the offset that shows the cause. */
function describeYamlError(
  error: YamlError,
  text: string,
  doc: YamlDocument,
): { offset: number; message: string; path?: Path } {
  const offset = error.pos[0];
  const raw = firstLine(error.message);
  switch (error.code) {
    case "DUPLICATE_KEY": {
      const path = keyPathAt(doc.contents, offset, []) ?? [];
      const key = path.length > 0 ? String(path[path.length - 1]) : keyAt(text, offset);
      return {
        offset,
        path,
        message: `Duplicate key "${key}"; a key may appear only once in a mapping`,
      };
    }
    case "MULTIPLE_DOCS":
      return {
        offset,
        message: "Invalid YAML: a config is a single document; remove this `---` and what follows",
      };
    case "TAB_AS_INDENT":
      return { offset, message: "Invalid YAML: a tab is used for indentation; indent with spaces" };
    case "MISSING_CHAR": {
      const quote = /closing "quote/.test(raw) ? '"' : /closing 'quote/.test(raw) ? "'" : "";
      if (quote) {
        const open = openingQuote(text, offset, quote);
        const kind = quote === '"' ? "double" : "single";
        return {
          offset: open ?? offset,
          message: `Invalid YAML: the ${kind}-quoted string starting here is never closed`,
        };
      }
      return { offset, message: `Invalid YAML: ${raw}` };
    }
    case "BAD_INDENT":
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY": {
      if (raw.startsWith("Flow")) return { offset, message: `Invalid YAML: ${raw}` };
      if (raw.startsWith("Nested mappings")) {
        const spansLines = doc.errors.some((e) =>
          e.code === "MULTILINE_IMPLICIT_KEY" && e.pos[0] === offset
        );
        if (!spansLines) {
          return {
            offset,
            message:
              "Invalid YAML: a mapping cannot start on the same line as its key; put it on the next line, indented, or write it as { key: value }",
          };
        }
        // `key: value` followed by a line indented deeper: point at that line.
        return {
          offset: nextContentLine(text, offset) ?? offset,
          message:
            "Invalid YAML: bad indentation: this line is indented more than the key above it, whose value is already given",
        };
      }
      const at = skipSpaces(text, offset);
      if (raw.startsWith("A block sequence") && text[at] === "-") {
        return {
          offset: at,
          message:
            "Invalid YAML: bad indentation: this list item does not line up with the items above it",
        };
      }
      return { offset: at, message: `Invalid YAML: bad indentation: ${lowerFirst(raw)}` };
    }
    default:
      return { offset, message: `Invalid YAML: ${raw}` };
  }
}

/** The offset of the quote that opens the unclosed string ending at `end`. */
function openingQuote(text: string, end: number, quote: string): number | undefined {
  for (let i = Math.min(end, text.length) - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    if (quote === '"' && text[i - 1] === "\\") continue;
    if (quote === "'" && text[i - 1] === "'") {
      i--; // an escaped '' inside the string
      continue;
    }
    return i;
  }
  return undefined;
}

function skipSpaces(text: string, offset: number): number {
  while (text[offset] === " ") offset++;
  return offset;
}

/** The offset of the first character of the next line that is neither blank nor a comment. */
function nextContentLine(text: string, offset: number): number | undefined {
  let at = text.indexOf("\n", offset);
  while (at !== -1) {
    const start = skipSpaces(text, at + 1);
    if (start < text.length && text[start] !== "\n" && text[start] !== "#") return start;
    at = text.indexOf("\n", start);
  }
  return undefined;
}

function keyAt(text: string, offset: number): string {
  return /^["']?([^:"'\n]*)/.exec(text.slice(offset))?.[1]?.trim() ?? "";
}

/** The path of the mapping key that starts at `offset`. */
function keyPathAt(node: unknown, offset: number, path: Path): Path | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      const segment = String(key);
      if (rangeStart(pair.key) === offset) return [...path, segment];
      const inner = keyPathAt(pair.value, offset, [...path, segment]);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const inner = keyPathAt(node.items[i], offset, [...path, i]);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The key path of `node` given its ancestors (as `visit` reports them). */
function pathOf(ancestors: readonly unknown[], node: unknown): Path {
  const path: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) path.push(parent.items.indexOf(child));
    else if (isMap(parent)) {
      // visit passes the Pair between a map and its value.
      continue;
    } else if (child !== undefined && isPair(parent)) {
      const key = isScalar(parent.key) ? parent.key.value : parent.key;
      if (parent.value === child) path.push(String(key));
    }
  }
  return path;
}

function isPair(value: unknown): value is { key: unknown; value: unknown } {
  return typeof value === "object" && value !== null && "key" in value && "value" in value &&
    !isAlias(value);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The source offset of the value (or key) at `path`, or of the deepest existing ancestor. */
function offsetOf(doc: YamlDocument, path: Path, atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (!pair) return offset;
      if (atKey && i === path.length - 1) return rangeStart(pair.key) ?? offset;
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else return offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}

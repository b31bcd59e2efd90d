/**
 * The base class of every schema and what parsing and describing need.
 *
 * @module
 */

import { describe, type Issue, type Path } from "./issue.ts";

/** A JSON Schema fragment. */
export type JsonSchema = { [key: string]: unknown };

/** A formatter reference after validation: the plugin to create and its parsed options. */
export interface FormatterSpec {
  /** The built-in type, or the `module:` specifier for a user's own formatter. */
  type: string;
  /** Set when the formatter comes from a user's module. */
  module?: string;
  /** The formatter's options, validated and with defaults filled. */
  options: Record<string, unknown>;
}

/** What a schema needs while parsing: the issue list and, for formatter references, a resolver. */
export interface ParseContext {
  /** Every problem found so far. */
  issues: Issue[];
  /** Resolves a `format:` value to a validated formatter; set by the config validator. */
  resolveFormatter?: (value: unknown, path: Path, ctx: ParseContext) => FormatterSpec | undefined;
  /** Whether the value at `path` came wholly from `${VAR}` references; set by the config loader. */
  fromEnvironment?: (path: Path) => boolean;
  /**
   * Reads a variable of the environment the config is loaded with, for options that name one
   * (`keys_env`), so that its value is checked with the config; set by the config loader.
   */
  env?: (name: string) => string | undefined;
}

/** A secret option's value and where it came from. */
export interface Secret {
  /** The secret text. */
  value: string;
  /** True when the config held only `${VAR}` references there, not the secret itself. */
  fromEnvironment: boolean;
}

/** What a schema needs to describe itself as JSON Schema. */
export interface JsonSchemaContext {
  /** The JSON Schema of a `format:` value (every formatter, by type). */
  formatter: () => JsonSchema;
}

/** A schema for values of type `T`. */
export abstract class Schema<T> {
  /** Shown in JSON Schema descriptions and the README's option tables. */
  description: string | undefined;
  /** The value used when the key is absent; `undefined` means the key is required. */
  defaultValue: T | undefined;
  /** Whether the key may be absent without a default. */
  isOptional = false;

  /** Parses `value`; on failure pushes issues to `ctx` and returns `undefined`. */
  abstract parse(value: unknown, path: Path, ctx: ParseContext): T | undefined;
  /** A short phrase for messages: "a string", "one of a, b". */
  abstract expected(): string;
  /** This schema as JSON Schema. */
  abstract jsonSchema(ctx: JsonSchemaContext): JsonSchema;

  /** Makes the key optional (absent stays absent). */
  optional(): Schema<T | undefined> {
    const copy = this.clone();
    copy.isOptional = true;
    return copy as Schema<T | undefined>;
  }

  /** Makes the key optional, using `value` when it is absent. */
  default(value: T): Schema<T> {
    const copy = this.clone();
    copy.defaultValue = value;
    return copy;
  }

  /** Adds a description. */
  describe(text: string): this {
    const copy = this.clone();
    copy.description = text;
    return copy;
  }

  /** Returns a JSON Schema with the description and default attached. */
  protected decorate(schema: JsonSchema, ctx: JsonSchemaContext): JsonSchema {
    void ctx;
    if (this.description !== undefined) schema.description = this.description;
    if (this.defaultValue !== undefined) schema.default = this.defaultValue;
    return schema;
  }

  /** Reports a type mismatch. */
  protected fail(value: unknown, path: Path, ctx: ParseContext): undefined {
    ctx.issues.push({ path, message: `Expected ${this.expected()}, got ${describe(value)}` });
    return undefined;
  }

  /** A copy, so that optional()/default()/describe() never change a shared schema. */
  private clone(): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this)), this);
  }
}

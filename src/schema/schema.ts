/**
 * A small options-schema language. Each plugin declares its options with it; the same
 * declaration validates a config (collecting every issue with its key path), fills
 * defaults, and produces the JSON Schema that `sluice schema` publishes for editors.
 *
 * @module
 */

import { LEVEL_NAMES, parseLevel } from "../core/levels.ts";
import { closest } from "./closest.ts";

/** A key path into the config, such as `["sinks", "file", "max_bytes"]`. */
export type Path = readonly (string | number)[];

/** One validation problem, positioned later by the config loader. */
export interface Issue {
  /** Where the problem is. */
  path: Path;
  /** What is wrong, in sentence case, naming the value. */
  message: string;
  /** A suggestion such as `did you mean "max_bytes"?`. */
  hint?: string;
  /** Points at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
}

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
}

/** A secret option's value and where it came from. */
export interface Secret {
  /** The secret text. */
  value: string;
  /** True when the config held only `${VAR}` references there, not the secret itself. */
  fromEnvironment: boolean;
}

/** Options of an object schema. */
export interface ObjectOptions<S extends Shape> {
  /** Keys accepted without parsing (handled elsewhere). */
  extraKeys?: readonly string[];
  /** A check across keys, run after every key parsed; it pushes its own issues. */
  refine?: (value: ShapeType<S>, path: Path, ctx: ParseContext) => void;
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

/** Describes a value for an error message: its type and, for scalars, the value itself. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Uint8Array) return "binary data";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
    case "number":
    case "boolean":
      return String(value);
    case "object":
      return "a mapping";
    case "undefined":
      return "nothing";
    default:
      return typeof value;
  }
}

class StringSchema extends Schema<string> {
  constructor(
    private readonly opts: { pattern?: RegExp; minLength?: number; patternName?: string },
  ) {
    super();
  }
  parse(value: unknown, path: Path, ctx: ParseContext): string | undefined {
    if (typeof value === "number" || typeof value === "boolean") value = String(value);
    if (typeof value !== "string") return this.fail(value, path, ctx);
    if (this.opts.minLength !== undefined && value.length < this.opts.minLength) {
      ctx.issues.push({
        path,
        message: this.opts.minLength === 1
          ? "Expected a non-empty string"
          : `Expected at least ${this.opts.minLength} characters, got ${value.length}`,
      });
      return undefined;
    }
    if (this.opts.pattern && !this.opts.pattern.test(value)) return this.fail(value, path, ctx);
    return value;
  }
  expected(): string {
    return this.opts.patternName ?? (this.opts.minLength ? "a non-empty string" : "a string");
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    const out: JsonSchema = { type: "string" };
    if (this.opts.minLength !== undefined) out.minLength = this.opts.minLength;
    if (this.opts.pattern) out.pattern = this.opts.pattern.source;
    return this.decorate(out, ctx);
  }
}

class NumberSchema extends Schema<number> {
  constructor(private readonly opts: { min?: number; max?: number; integer?: boolean }) {
    super();
  }
  parse(value: unknown, path: Path, ctx: ParseContext): number | undefined {
    if (typeof value === "string" && value.trim() !== "" && !isNaN(Number(value))) {
      value = Number(value);
    }
    if (typeof value !== "number" || !Number.isFinite(value)) return this.fail(value, path, ctx);
    if (this.opts.integer && !Number.isInteger(value)) return this.fail(value, path, ctx);
    if (
      (this.opts.min !== undefined && value < this.opts.min) ||
      (this.opts.max !== undefined && value > this.opts.max)
    ) {
      return this.fail(value, path, ctx);
    }
    return value;
  }
  expected(): string {
    const kind = this.opts.integer ? "an integer" : "a number";
    const { min, max } = this.opts;
    if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
    if (min !== undefined) return `${kind} of at least ${min}`;
    if (max !== undefined) return `${kind} of at most ${max}`;
    return kind;
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    const out: JsonSchema = { type: this.opts.integer ? "integer" : "number" };
    if (this.opts.min !== undefined) out.minimum = this.opts.min;
    if (this.opts.max !== undefined) out.maximum = this.opts.max;
    return this.decorate(out, ctx);
  }
}

class BooleanSchema extends Schema<boolean> {
  parse(value: unknown, path: Path, ctx: ParseContext): boolean | undefined {
    if (value === "true") return true;
    if (value === "false") return false;
    return typeof value === "boolean" ? value : this.fail(value, path, ctx);
  }
  expected(): string {
    return "true or false";
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({ type: "boolean" }, ctx);
  }
}

class EnumSchema<T extends string> extends Schema<T> {
  constructor(private readonly values: readonly T[]) {
    super();
  }
  parse(value: unknown, path: Path, ctx: ParseContext): T | undefined {
    if (typeof value === "string" && (this.values as readonly string[]).includes(value)) {
      return value as T;
    }
    const hint = typeof value === "string" ? closest(value, this.values) : undefined;
    ctx.issues.push({
      path,
      message: `Expected ${this.expected()}, got ${describe(value)}`,
      ...(hint ? { hint: `did you mean "${hint}"?` } : {}),
    });
    return undefined;
  }
  expected(): string {
    return `one of ${this.values.join(", ")}`;
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({ type: "string", enum: [...this.values] }, ctx);
  }
}

// Every spelling parseLevel accepts, in any case, for the JSON Schema (which has no /i flag).
const LEVEL_PATTERN = "^\\s*(" +
  ["notset", "trace", "debug", "info", "warn", "warning", "error", "critical", "fatal"]
    .map((name) => [...name].map((c) => `[${c}${c.toUpperCase()}]`).join(""))
    .join("|") +
  "|\\d+)\\s*$";

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
};

/** Parses `"10MiB"`, `"512 KiB"`, `"1GB"` or a plain number of bytes. */
export function parseBytes(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? "").toLowerCase() || "b";
  const factor = SIZE_UNITS[unit];
  return factor === undefined ? undefined : Math.round(Number(m[1]) * factor);
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `"200ms"`, `"30s"`, `"10m"`, `"14d"`, `"1h30m"`, or a number of milliseconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  let total = 0;
  let rest = value.trim();
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*/i.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (DURATION_UNITS[(m[2] ?? "").toLowerCase()] ?? NaN);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? total : undefined;
}

class SecretSchema extends Schema<Secret> {
  parse(value: unknown, path: Path, ctx: ParseContext): Secret | undefined {
    // Never echo the value: it may be the secret itself.
    if (typeof value !== "string" || value === "") {
      ctx.issues.push({ path, message: "Expected a non-empty string" });
      return undefined;
    }
    return { value, fromEnvironment: ctx.fromEnvironment?.(path) ?? false };
  }
  expected(): string {
    return "a non-empty string";
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({ type: "string", minLength: 1 }, ctx);
  }
}

class ConvertSchema<T> extends Schema<T> {
  constructor(
    private readonly convert: (value: unknown) => T | undefined,
    private readonly phrase: string,
    private readonly json: JsonSchema,
    private readonly suggest?: (value: unknown) => string | undefined,
  ) {
    super();
  }
  parse(value: unknown, path: Path, ctx: ParseContext): T | undefined {
    const out = this.convert(value);
    if (out !== undefined) return out;
    const hint = this.suggest?.(value);
    ctx.issues.push({
      path,
      message: `Expected ${this.phrase}, got ${describe(value)}`,
      ...(hint ? { hint: `did you mean "${hint}"?` } : {}),
    });
    return undefined;
  }
  expected(): string {
    return this.phrase;
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate(structuredClone(this.json), ctx);
  }
}

class ArraySchema<T> extends Schema<T[]> {
  constructor(
    private readonly item: Schema<T>,
    private readonly opts: { minItems?: number; single?: boolean },
  ) {
    super();
  }
  parse(value: unknown, path: Path, ctx: ParseContext): T[] | undefined {
    if (this.opts.single && !Array.isArray(value) && value !== null && value !== undefined) {
      value = [value];
    }
    if (!Array.isArray(value)) return this.fail(value, path, ctx);
    if (this.opts.minItems !== undefined && value.length < this.opts.minItems) {
      ctx.issues.push({
        path,
        message: `Expected at least ${this.opts.minItems} item(s), got ${value.length}`,
      });
      return undefined;
    }
    const before = ctx.issues.length;
    const out = value.map((item, i) => this.item.parse(item, [...path, i], ctx));
    return ctx.issues.length === before ? out as T[] : undefined;
  }
  expected(): string {
    return `a list of ${this.item.expected().replace(/^an? /, "")}s`;
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    const items = this.item.jsonSchema(ctx);
    const out: JsonSchema = { type: "array", items };
    if (this.opts.minItems !== undefined) out.minItems = this.opts.minItems;
    return this.decorate(this.opts.single ? { anyOf: [items, out] } : out, ctx);
  }
}

class MapSchema<T> extends Schema<Record<string, T>> {
  constructor(private readonly value: Schema<T>) {
    super();
  }
  parse(value: unknown, path: Path, ctx: ParseContext): Record<string, T> | undefined {
    if (!isPlainObject(value)) return this.fail(value, path, ctx);
    const before = ctx.issues.length;
    const out: Record<string, T> = {};
    for (const [key, item] of Object.entries(value)) {
      const parsed = this.value.parse(item, [...path, key], ctx);
      if (parsed !== undefined) out[key] = parsed;
    }
    return ctx.issues.length === before ? out : undefined;
  }
  expected(): string {
    return "a mapping";
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({ type: "object", additionalProperties: this.value.jsonSchema(ctx) }, ctx);
  }
}

/** The shape of an object schema's fields. */
export type Shape = Record<string, Schema<unknown>>;
/** The parsed type of an object schema. */
export type Infer<S> = S extends Schema<infer T> ? T : never;
/** The parsed type of an object schema's shape. */
export type ShapeType<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

/** An object schema: known keys only (an unknown key is an issue with a did-you-mean). */
export class ObjectSchema<S extends Shape> extends Schema<ShapeType<S>> {
  // Stored with the value type erased, so ObjectSchema<S> stays assignable to ObjectSchema<Shape>.
  private readonly opts: ObjectOptions<Shape>;
  /** Creates the schema from its shape; `extraKeys` are accepted and ignored (handled elsewhere). */
  constructor(readonly shape: S, opts: ObjectOptions<S> = {}) {
    super();
    this.opts = opts as ObjectOptions<Shape>;
  }
  /**
   * A copy that also accepts `keys` (and names them in unknown-key messages) without
   * parsing them: the config validator uses it for the framework keys of a component.
   */
  accepting(keys: readonly string[]): ObjectSchema<S> {
    const copy = new ObjectSchema<S>(this.shape, {
      ...(this.opts as ObjectOptions<S>),
      extraKeys: [...(this.opts.extraKeys ?? []), ...keys],
    });
    copy.description = this.description;
    copy.defaultValue = this.defaultValue;
    copy.isOptional = this.isOptional;
    return copy;
  }

  /** Parses a mapping, reporting unknown keys with a did-you-mean and filling defaults. */
  parse(value: unknown, path: Path, ctx: ParseContext): ShapeType<S> | undefined {
    if (value === null || value === undefined) value = {};
    if (!isPlainObject(value)) return this.fail(value, path, ctx);
    const before = ctx.issues.length;
    const known = Object.keys(this.shape);
    const extra = this.opts.extraKeys ?? [];
    // A misspelt required key is one mistake: the unknown key's did-you-mean says it all.
    const suggested = new Set<string>();
    for (const key of Object.keys(value)) {
      if (key in this.shape || extra.includes(key)) continue;
      const candidates = [...known, ...extra];
      ctx.issues.push(unknownName("key", key, [...path, key], candidates, true));
      const hint = closest(key, candidates);
      if (hint !== undefined) suggested.add(hint);
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      const raw = (value as Record<string, unknown>)[key];
      if (raw === undefined || raw === null) {
        if (schema.defaultValue !== undefined) {
          out[key] = schema instanceof FormatterSchema && ctx.resolveFormatter
            // A default formatter is resolved like a written one: looked up, options filled.
            ? schema.parse(
              {
                type: (schema.defaultValue as FormatterSpec).type,
                ...(schema.defaultValue as FormatterSpec).options,
              },
              [...path, key],
              ctx,
            )
            : structuredClone(schema.defaultValue);
        } else if (!schema.isOptional && !suggested.has(key)) {
          ctx.issues.push({
            path: [...path, key],
            message: `Missing required key "${key}" (${schema.expected()})`,
          });
        }
        continue;
      }
      const parsed = schema.parse(raw, [...path, key], ctx);
      if (parsed !== undefined) out[key] = parsed;
    }
    if (ctx.issues.length !== before) return undefined;
    this.opts.refine?.(out as ShapeType<Shape>, path, ctx);
    return ctx.issues.length === before ? out as ShapeType<S> : undefined;
  }
  /** "a mapping". */
  expected(): string {
    return "a mapping";
  }
  /** A closed JSON Schema object with each key's schema. */
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [key, schema] of Object.entries(this.shape)) {
      properties[key] = schema.jsonSchema(ctx);
      if (schema.defaultValue === undefined && !schema.isOptional) required.push(key);
    }
    const out: JsonSchema = { type: "object", properties, additionalProperties: false };
    if (required.length) out.required = required;
    return this.decorate(out, ctx);
  }
}

class UnionSchema<T> extends Schema<T> {
  constructor(private readonly options: readonly Schema<T>[]) {
    super();
  }
  parse(value: unknown, path: Path, ctx: ParseContext): T | undefined {
    // An option whose issues all lie inside the value accepted its shape (a mapping for a
    // mapping): its issues say what is wrong. Otherwise no option fits at all.
    let best: Issue[] | undefined;
    for (const option of this.options) {
      const trial: ParseContext = { ...ctx, issues: [] };
      const out = option.parse(value, path, trial);
      if (trial.issues.length === 0) return out;
      const inside = trial.issues.every((issue) => issue.path.length > path.length);
      if (inside && (!best || trial.issues.length < best.length)) best = trial.issues;
    }
    if (best) ctx.issues.push(...best);
    else ctx.issues.push({ path, message: `Expected ${this.expected()}, got ${describe(value)}` });
    return undefined;
  }
  expected(): string {
    return this.options.map((o) => o.expected()).join(" or ");
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({ anyOf: this.options.map((o) => o.jsonSchema(ctx)) }, ctx);
  }
}

class AnySchema extends Schema<unknown> {
  parse(value: unknown): unknown {
    return value;
  }
  expected(): string {
    return "any value";
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({}, ctx);
  }
}

class FormatterSchema extends Schema<FormatterSpec> {
  parse(value: unknown, path: Path, ctx: ParseContext): FormatterSpec | undefined {
    if (ctx.resolveFormatter) return ctx.resolveFormatter(value, path, ctx);
    if (typeof value === "string") return { type: value, options: {} };
    if (isPlainObject(value) && typeof value.type === "string") {
      const { type, ...options } = value;
      return { type, options };
    }
    return this.fail(value, path, ctx);
  }
  expected(): string {
    return "a formatter type name or a mapping with a type";
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate(ctx.formatter(), ctx);
  }
}

/**
 * The issue for a name that matches nothing: a did-you-mean when one candidate is close,
 * otherwise the list of valid names (so a message never lists a set that grows with the
 * plugins when a suggestion already says what to write).
 *
 * @example An unknown key with a close match
 * ```ts
 * import { unknownName } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const issue = unknownName("key", "paht", ["sinks", "out", "paht"], ["path", "format"], true);
 * assert.ok(issue.message === 'Unknown key "paht"' && issue.hint === 'did you mean "path"?');
 * ```
 */
export function unknownName(
  what: string,
  name: string,
  path: Path,
  candidates: readonly string[],
  atKey = false,
): Issue {
  const hint = closest(name, candidates);
  const issue: Issue = {
    path,
    message: hint || candidates.length === 0
      ? `Unknown ${what} "${name}"`
      : `Unknown ${what} "${name}"; expected one of ${candidates.join(", ")}`,
  };
  if (hint) issue.hint = `did you mean "${hint}"?`;
  if (atKey) issue.atKey = true;
  return issue;
}

/** Whether `value` is a plain mapping (not null, not a list). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/**
 * Schema builders.
 *
 * @example Validate options and collect issues with their paths
 * ```ts
 * import { s } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const options = s.object({ path: s.string(), max_bytes: s.bytes().default(10_485_760) });
 * const ctx = { issues: [] };
 * const parsed = options.parse({ path: "a.log", max_bytes: "1KiB" }, [], ctx);
 * assert.ok(parsed?.max_bytes === 1024 && ctx.issues.length === 0);
 * ```
 */
export const s = {
  /** A string; `minLength: 1` for a non-empty one. */
  string: (
    opts: { pattern?: RegExp; minLength?: number; patternName?: string } = {},
  ): Schema<string> => new StringSchema(opts),
  /** A number with optional bounds. */
  number: (opts: { min?: number; max?: number } = {}): Schema<number> => new NumberSchema(opts),
  /** An integer with optional bounds. */
  integer: (opts: { min?: number; max?: number } = {}): Schema<number> =>
    new NumberSchema({ ...opts, integer: true }),
  /** `true` or `false`. */
  boolean: (): Schema<boolean> => new BooleanSchema(),
  /** One of the given strings. */
  enum: <T extends string>(values: readonly T[]): Schema<T> => new EnumSchema(values),
  /** A size in bytes: a number or a string with a unit (B, KiB, MiB, GiB, KB, MB, GB). */
  bytes: (): Schema<number> =>
    new ConvertSchema(parseBytes, "a size such as 10MiB, 512KiB or 1000", {
      anyOf: [{ type: "integer", minimum: 0 }, {
        type: "string",
        pattern: "^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgG]([iI]?[bB])?)?\\s*$",
      }],
    }),
  /** A duration in milliseconds: a number or a string such as 200ms, 30s, 10m, 2h, 14d. */
  duration: (): Schema<number> =>
    new ConvertSchema(parseDuration, "a duration such as 200ms, 30s, 10m or 14d", {
      anyOf: [{ type: "number", minimum: 0 }, {
        type: "string",
        pattern: "^(\\s*\\d+(\\.\\d+)?\\s*([mM][sS]|[sSmMhHdDwW]))+\\s*$",
      }],
    }),
  /** A level name (trace … critical) or number. */
  level: (): Schema<number> =>
    new ConvertSchema(
      parseLevel,
      `a level (${LEVEL_NAMES.join(", ")})`,
      {
        anyOf: [
          { enum: [...LEVEL_NAMES] },
          { type: "string", pattern: LEVEL_PATTERN },
          { type: "integer", minimum: 0, maximum: 100 },
        ],
      },
      (value) => typeof value === "string" ? closest(value, LEVEL_NAMES) : undefined,
    ),
  /** A list; `single: true` also accepts one item without brackets. */
  array: <T>(item: Schema<T>, opts: { minItems?: number; single?: boolean } = {}): Schema<T[]> =>
    new ArraySchema(item, opts),
  /** A mapping from any key to values of one schema. */
  map: <T>(value: Schema<T>): Schema<Record<string, T>> => new MapSchema(value),
  /** A mapping with known keys only. */
  object: <S extends Shape>(shape: S, opts: ObjectOptions<S> = {}): ObjectSchema<S> =>
    new ObjectSchema(shape, opts),
  /**
   * A secret string (a key): the parsed value says whether the config held the secret
   * itself or only `${VAR}` references to it, so plugins can refuse secrets written in.
   */
  secret: (): Schema<Secret> => new SecretSchema(),
  /** The first of several schemas that accepts the value. */
  union: <T>(...options: Schema<T>[]): Schema<T> => new UnionSchema(options),
  /** Any value, unchecked (for pass-through data such as field values). */
  any: (): Schema<unknown> => new AnySchema(),
  /** A `format:` value: a formatter type name, or a mapping with `type` (or `module`) and options. */
  formatter: (): Schema<FormatterSpec> => new FormatterSchema(),
  /** A value checked by a function that returns the parsed value or `undefined`. */
  custom: <T>(
    convert: (value: unknown) => T | undefined,
    expected: string,
    json: JsonSchema = {},
  ): Schema<T> => new ConvertSchema(convert, expected, json),
};

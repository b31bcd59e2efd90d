/**
 * A small options-schema language. Each plugin declares its options with it; the same
 * declaration validates a config (collecting every issue with its key path), fills
 * defaults, and produces the JSON Schema that `sluice schema` publishes for editors.
 *
 * This file is the language's front: the `s` builders, and the types a plugin or the config
 * validator needs. The schemas themselves live beside it (scalars, compound, object_schema).
 *
 * @module
 */

import { LEVEL_NAMES, parseLevel } from "../core/levels.ts";
import { closest } from "./closest.ts";
import type { FormatterSpec, JsonSchema, Schema, Secret } from "./base.ts";
import { AnySchema, ArraySchema, MapSchema, UnionSchema } from "./compound.ts";
import { FormatterSchema, type ObjectOptions, ObjectSchema, type Shape } from "./object_schema.ts";
import {
  BooleanSchema,
  ConvertSchema,
  EnumSchema,
  NumberSchema,
  SecretSchema,
  StringSchema,
} from "./scalars.ts";
import { parseBytes, parseDuration } from "./units.ts";

export {
  type FormatterSpec,
  type JsonSchema,
  type JsonSchemaContext,
  type ParseContext,
  Schema,
  type Secret,
} from "./base.ts";
export { describe, isPlainObject, type Issue, type Path, unknownName } from "./issue.ts";
export {
  type Infer,
  type ObjectOptions,
  ObjectSchema,
  type Shape,
  type ShapeType,
} from "./object_schema.ts";
export { parseBytes, parseDuration } from "./units.ts";

// Every spelling parseLevel accepts, in any case, for the JSON Schema (which has no /i flag).
const LEVEL_PATTERN = "^\\s*(" +
  ["notset", "trace", "debug", "info", "warn", "warning", "error", "critical", "fatal"]
    .map((name) => [...name].map((c) => `[${c}${c.toUpperCase()}]`).join(""))
    .join("|") +
  "|\\d+)\\s*$";

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

/**
 * Object schemas (known keys only, defaults filled) and the `format:` reference they resolve.
 *
 * @module
 */

import { closest } from "./closest.ts";
import { isPlainObject, type Path, unknownName } from "./issue.ts";
import {
  type FormatterSpec,
  type JsonSchema,
  type JsonSchemaContext,
  type ParseContext,
  Schema,
} from "./base.ts";
import { getOwn } from "../core/get_own.ts";

/** Options of an object schema. */
export interface ObjectOptions<S extends Shape> {
  /** Keys accepted without parsing (handled elsewhere). */
  extraKeys?: readonly string[];
  /** A check across keys, run after every key parsed; it pushes its own issues. */
  refine?: (value: ShapeType<S>, path: Path, ctx: ParseContext) => void;
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
      if (Object.hasOwn(this.shape, key) || extra.includes(key)) continue;
      const candidates = [...known, ...extra];
      ctx.issues.push(unknownName("key", key, [...path, key], candidates, true));
      const hint = closest(key, candidates);
      if (hint !== undefined) suggested.add(hint);
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      const raw = getOwn(value, key);
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

/** A `format:` value, resolved through the parse context when a config validator provides one. */
export class FormatterSchema extends Schema<FormatterSpec> {
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

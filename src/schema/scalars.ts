/**
 * Scalar schemas: strings, numbers, booleans, enums, secrets and converted values.
 *
 * @module
 */

import { closest } from "./closest.ts";
import { describe, type Path } from "./issue.ts";
import {
  type JsonSchema,
  type JsonSchemaContext,
  type ParseContext,
  Schema,
  type Secret,
} from "./base.ts";

/** A string, optionally non-empty or matching a pattern (numbers and booleans are taken as text). */
export class StringSchema extends Schema<string> {
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

/** A number or integer within optional bounds (numeric strings are converted). */
export class NumberSchema extends Schema<number> {
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

/** `true` or `false` (also as the strings "true" and "false"). */
export class BooleanSchema extends Schema<boolean> {
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

/** One of a fixed set of strings, with a did-you-mean. */
export class EnumSchema<T extends string> extends Schema<T> {
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

/** A secret string, never echoed in messages, that knows whether it came from `${VAR}`. */
export class SecretSchema extends Schema<Secret> {
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

/** A value converted by a function (sizes, durations, levels), with an optional suggestion. */
export class ConvertSchema<T> extends Schema<T> {
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

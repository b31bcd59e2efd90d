/**
 * Compound schemas: lists, open mappings, unions and unchecked values.
 *
 * @module
 */

import { describe, isPlainObject, type Issue, type Path } from "./issue.ts";
import { type JsonSchema, type JsonSchemaContext, type ParseContext, Schema } from "./base.ts";

/** A list of items of one schema; `single` also takes one item without brackets. */
export class ArraySchema<T> extends Schema<T[]> {
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

/** A mapping from any key to values of one schema. */
export class MapSchema<T> extends Schema<Record<string, T>> {
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

/** The first of several schemas that accepts the value. */
export class UnionSchema<T> extends Schema<T> {
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

/** Any value, unchecked. */
export class AnySchema extends Schema<unknown> {
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

/**
 * A module plugin's options schema as the plugin sandbox's parent sees it: parsing answers
 * from the child process (`plugin_sandbox.ts`), the JSON Schema is the one the child sent.
 *
 * @module
 */

import {
  type FormatterSpec,
  isPlainObject,
  type JsonSchema,
  type JsonSchemaContext,
  ObjectSchema,
  type ParseContext,
  type Path,
  type Shape,
} from "../schema/schema.ts";
import {
  canSetAt,
  FORMATTER_SCHEMA_MARK,
  type ParseAnswer,
  type ParseRequest,
  setAt,
} from "./sandbox_protocol.ts";

/** A parsed options object the parent holds: the child's handle and the formatters resolved. */
export interface SandboxedView {
  /** The child keeps the options under this number. */
  handle: number;
  /** The resolved formatters, at their key paths relative to the options. */
  formats: { path: Path; spec: FormatterSpec }[];
}

/** What {@linkcode SandboxedOptions} asks of its sandbox. */
export interface SchemaHost {
  /** The child's answer to a parse request (by its JSON), once it came. */
  answer(key: string): ParseAnswer | undefined;
  /** Remembers a parse request for the child's next round. */
  want(key: string, request: ParseRequest): void;
  /** Ties the options object a parse returned to the child's handle of them. */
  keep(view: object, entry: SandboxedView): void;
}

/**
 * A module plugin's options schema, answered by the sandbox. Parsing is synchronous and the
 * child is not: an unanswered parse is remembered and fails without an issue, and the config
 * loader, which already validates again after loading what a pass wanted, asks the child
 * (`answerWanted`) and validates again.
 *
 * @example The first parse is a question for the child; the second is its answer
 * ```ts
 * import { SandboxedOptions, type SchemaHost } from "./sandboxed_options.ts";
 * import type { ParseAnswer, ParseRequest } from "./sandbox_protocol.ts";
 * import type { ParseContext } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const answers = new Map<string, ParseAnswer>();
 * const wanted: ParseRequest[] = [];
 * const host: SchemaHost = {
 *   answer: (key) => answers.get(key),
 *   want: (key, request) => {
 *     wanted.push(request);
 *     answers.set(key, { handle: 1, value: { path: "a.log" }, issues: [], formats: [] });
 *   },
 *   keep: () => {},
 * };
 * const schema = new SandboxedOptions(host, "./counts.ts", [], undefined).accepting(["inputs"]);
 * const ctx: ParseContext = { issues: [] };
 * assert.equal(schema.parse({ path: "a.log" }, ["sinks", "out"], ctx), undefined);
 * assert.deepEqual(wanted[0]?.keys, ["inputs"]);
 * assert.deepEqual(schema.parse({ path: "a.log" }, ["sinks", "out"], ctx), { path: "a.log" });
 * ```
 */
export class SandboxedOptions extends ObjectSchema<Shape> {
  /** A schema for `specifier`'s options that asks `host`; `json` is its JSON Schema, if any. */
  constructor(
    private readonly host: SchemaHost,
    private readonly specifier: string,
    private readonly keys: readonly string[],
    private readonly json: JsonSchema | undefined,
  ) {
    super({});
  }

  /** The same schema, also accepting the framework keys `keys`. */
  override accepting(keys: readonly string[]): ObjectSchema<Shape> {
    return new SandboxedOptions(this.host, this.specifier, [...this.keys, ...keys], this.json);
  }

  /** Answers from the child, or remembers the question and fails without an issue. */
  override parse(
    value: unknown,
    path: Path,
    ctx: ParseContext,
  ): Record<string, unknown> | undefined {
    const env: Path[] = [];
    walkPaths(value, path, (at) => {
      if (ctx.fromEnvironment?.(at)) env.push(at);
    });
    const request: ParseRequest = {
      specifier: this.specifier,
      spec: (isPlainObject(value) ? value : {}) as Record<string, unknown>,
      path,
      keys: this.keys,
      env,
    };
    const key = JSON.stringify(request);
    const answer = this.host.answer(key);
    if (!answer) {
      this.host.want(key, request);
      return undefined;
    }
    // Copies: the loader conceals expanded values in issues, and each pass gets its own view.
    const before = ctx.issues.length;
    ctx.issues.push(...structuredClone(answer.issues));
    const view = structuredClone(answer.value ?? {});
    const formats: SandboxedView["formats"] = [];
    for (const format of answer.formats) {
      // The child chose the path (a plugin's parse() passes it to resolveFormatter): it must
      // lead, through the options' own keys, to a place inside them.
      const relative = formatPath(format.path, path);
      if (!relative || (answer.value !== undefined && !canSetAt(view, relative))) {
        ctx.issues.push({
          path,
          message: `Plugin module "${this.specifier}" put a formatter at key path ` +
            `${describePath(format.path)}, which is not a place in its options`,
        });
        continue;
      }
      const spec = ctx.resolveFormatter?.(format.value, format.path, ctx);
      if (!spec) continue;
      if (answer.value !== undefined) setAt(view, relative, spec);
      formats.push({ path: relative, spec });
    }
    if (ctx.issues.length !== before || answer.handle === undefined) return undefined;
    this.host.keep(view, { handle: answer.handle, formats });
    return view;
  }

  /** The child's JSON Schema of the options, with `ctx`'s formatter reference. */
  override jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    if (!this.json) return { type: "object" };
    const mark = FORMATTER_SCHEMA_MARK.$comment;
    const fill = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(fill);
      if (!isPlainObject(node)) return node;
      if (node.$comment === mark) return ctx.formatter();
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v)]));
    };
    return fill(this.json) as JsonSchema;
  }
}

/** `path` relative to `base`, when it is a key path strictly inside it. */
function formatPath(path: unknown, base: Path): Path | undefined {
  if (!Array.isArray(path) || path.length <= base.length) return undefined;
  if (!path.every((key) => typeof key === "string" || typeof key === "number")) return undefined;
  if (!base.every((key, i) => path[i] === key)) return undefined;
  return path.slice(base.length);
}

function describePath(path: unknown): string {
  const text = JSON.stringify(path) ?? String(path);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function walkPaths(value: unknown, path: Path, visit: (path: Path) => void): void {
  visit(path);
  if (Array.isArray(value)) value.forEach((item, i) => walkPaths(item, [...path, i], visit));
  else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) walkPaths(item, [...path, key], visit);
  }
}

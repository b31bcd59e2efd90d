/**
 * Where a component's options hold formatters (`{ type, options }` below the component's own
 * level), for the plugin sandbox, which asks the child about the module ones.
 *
 * @module
 */

import { type FormatterSpec, isPlainObject, type Path } from "../schema/schema.ts";

/**
 * Calls `visit` with each formatter spec inside `value` (the options at `path`, a
 * component's key path) and its key path, the formatters inside a formatter's options too.
 *
 * @example
 * ```ts
 * import { walkFormatters } from "./walk_formatters.ts";
 * import assert from "node:assert/strict";
 * const found: unknown[] = [];
 * walkFormatters({ outputs: [{ format: { type: "json", options: {} } }] }, ["sinks", "out"], (_, path) => found.push(path));
 * assert.deepEqual(found, [["sinks", "out", "outputs", 0, "format"]]);
 * ```
 */
export function walkFormatters(
  value: unknown,
  path: Path,
  visit: (spec: FormatterSpec, path: Path) => void,
): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => walkFormatters(item, [...path, i], visit));
    return;
  }
  if (!isPlainObject(value)) return;
  if (typeof value.type === "string" && isPlainObject(value.options) && path.length > 2) {
    visit(value as unknown as FormatterSpec, path);
    walkFormatters(value.options, path, visit);
    return;
  }
  for (const [key, item] of Object.entries(value)) walkFormatters(item, [...path, key], visit);
}

/**
 * Key paths as config problems show them.
 *
 * @module
 */

import type { Path } from "../schema/schema.ts";

/**
 * `sinks.out.inputs[0]`; keys that are empty or hold dots or spaces are quoted.
 *
 * @example A path with an index and a dotted key
 * ```ts
 * import { renderPath } from "./render_path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(renderPath(["sinks", "a.b", "inputs", 0]), 'sinks."a.b".inputs[0]');
 * ```
 */
export function renderPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = /^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment);
      out += out === "" ? key : `.${key}`;
    }
  }
  return out;
}

/**
 * The options of the `json` formatter, shared with sinks whose default line format is
 * `format: json` with its defaults filled (the http presets).
 *
 * @module
 */

import { s } from "../schema/schema.ts";

/**
 * `time` (`iso` or `epoch_ms`) and `level` (`name` or `number`).
 *
 * @example The defaults
 * ```ts
 * import { jsonOptions } from "./json_options.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(jsonOptions.parse({}, [], { issues: [] }), { time: "iso", level: "name" });
 * ```
 */
export const jsonOptions = s.object({
  time: s.enum(["iso", "epoch_ms"] as const).default("iso").describe("How `time` is written."),
  level: s.enum(["name", "number"] as const).default("name").describe("How `level` is written."),
});

/**
 * The options of the `json` formatter, shared with sinks whose default line format is
 * `format: json` with its defaults filled (the http presets).
 *
 * @module
 */

import { s } from "../schema/schema.ts";

/** The record's own keys, which the json formatter's `keys:` renames. */
export const JSON_CORE_KEYS = [
  "time",
  "level",
  "logger",
  "message",
  "error",
  "trace_id",
  "span_id",
  "parent_span_id",
  "caller",
] as const;

/**
 * `time` (`iso` or `epoch_ms`), `level` (`name` or `number`), `keys` (new names for the
 * record's own keys), `naming` (`sluice`, `ecs`, `otel`), `service` and `namespace` (for
 * `ecs`). Two keys on one name, and `keys` with a fixed naming, are check errors.
 *
 * @example The defaults
 * ```ts
 * import { jsonOptions } from "./json_options.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(jsonOptions.parse({}, [], { issues: [] }), {
 *   time: "iso", level: "name", naming: "sluice", namespace: "fields",
 * });
 * ```
 */
export const jsonOptions = s.object({
  time: s.enum(["iso", "epoch_ms"] as const).default("iso").describe("How `time` is written."),
  level: s.enum(["name", "number"] as const).default("name").describe("How `level` is written."),
  keys: s.object({
    time: s.string({ minLength: 1 }).optional(),
    level: s.string({ minLength: 1 }).optional(),
    logger: s.string({ minLength: 1 }).optional(),
    message: s.string({ minLength: 1 }).optional(),
    error: s.string({ minLength: 1 }).optional(),
    trace_id: s.string({ minLength: 1 }).optional(),
    span_id: s.string({ minLength: 1 }).optional(),
    parent_span_id: s.string({ minLength: 1 }).optional(),
    caller: s.string({ minLength: 1 }).optional(),
  }).optional().describe("New names for the record's own keys: {time: timestamp, message: msg}."),
  naming: s.enum(["sluice", "ecs", "otel"] as const).default("sluice").describe(
    "Sluice's names, Elastic Common Schema 8, or the OpenTelemetry log data model.",
  ),
  service: s.string({ minLength: 1 }).optional().describe(
    "service.name for naming ecs and otel (ecs falls back to a record's service field).",
  ),
  namespace: s.string({ minLength: 1 }).default("fields").describe(
    "With naming ecs: the object the record's fields are written under.",
  ),
}, {
  refine(options, path, ctx) {
    if (options.naming !== "sluice" && options.keys !== undefined) {
      ctx.issues.push({
        path: [...path, "keys"],
        message: `keys cannot be combined with naming: ${options.naming}, whose names are fixed`,
        hint: "drop keys, or drop naming to rename Sluice's own keys",
      });
    }
    const seen = new Map<string, string>();
    for (const key of JSON_CORE_KEYS) {
      const name = options.keys?.[key] ?? key;
      const other = seen.get(name);
      if (other !== undefined) {
        ctx.issues.push({
          path: [...path, "keys", options.keys?.[key] !== undefined ? key : other],
          message: `Both ${other} and ${key} would be written as "${name}"`,
        });
      }
      seen.set(name, key);
    }
  },
});

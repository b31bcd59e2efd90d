/**
 * The `fields` processor: adds, renames and drops fields.
 *
 * @module
 */

import { type LogRecord, RESERVED_KEYS } from "../../src/core/record.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";

/**
 * Rewrites each record's fields, in this order: `rename` (`{from: to}`; the renamed value
 * replaces a field already called `to`), then `drop` (a list of names, matched after
 * renaming), then `add` (static values, which replace fields of the same name), then
 * `add_missing` (static values set only where the record has no such field, as Python's
 * `extra.setdefault("request_id", "NO_REQUEST")`: a context's value wins). It returns
 * a new record with a new `fields` object and never changes the record it was given (the
 * same record may be on its way to other sinks). Keys name fields only; renaming or dropping
 * the record's own time, level, logger, message or error is a check error that points to the
 * json formatter's `keys:`. The operations are compiled once.
 *
 * @example YAML
 * ```ts
 * import { parseConfigText } from "../../src/config/load.ts";
 * import assert from "node:assert/strict";
 * const yaml = `
 * server: { listen: 127.0.0.1:9600 }
 * sources:
 *   ingest: { type: http }
 * processors:
 *   tidy:
 *     type: fields
 *     inputs: [ingest]
 *     rename: { usr: user }
 *     drop: [password, python]
 *     add: { service: payments, env: prod }
 * sinks:
 *   file: { type: file, inputs: [tidy], path: logs/ingest.log, format: json }
 * `;
 * const { config } = await parseConfigText(yaml, "fields.yaml");
 * assert.ok(config.processors.tidy?.options.add !== undefined);
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "fields",
  description: "Adds static fields, renames fields and drops fields (returns a new record).",
  options: s.object({
    add: s.map(s.any()).default({}).describe("Fields to set, with static values."),
    rename: s.map(s.string({ minLength: 1 })).default({}).describe("Fields to rename: {from: to}."),
    drop: s.array(s.string(), { single: true }).default([]).describe("Fields to remove."),
    add_missing: s.map(s.any()).default({}).describe(
      "Fields to set only where a record has none of that name (a default: {request_id: NO_REQUEST}).",
    ),
  }, {
    refine(options, path, ctx) {
      // These name the record's own keys, which no field operation reaches: renaming `time`
      // here was once ignored without a word.
      for (const [from, to] of Object.entries(options.rename)) {
        if (!RESERVED_KEYS.has(from)) continue;
        ctx.issues.push({
          path: [...path, "rename", from],
          atKey: true,
          message: `"${from}" is the record's own key, not a field; fields cannot rename it`,
          hint: `rename it where it is written: format: { type: json, keys: { ${from}: ${to} } }`,
        });
      }
      for (const [i, name] of options.drop.entries()) {
        if (!RESERVED_KEYS.has(name)) continue;
        ctx.issues.push({
          path: [...path, "drop", i],
          message: `"${name}" is the record's own key, not a field; fields cannot drop it`,
        });
      }
    },
  }),
  create(options) {
    const renames = Object.entries(options.rename);
    const renamed = new Set(renames.map(([from]) => from));
    const dropped = new Set(options.drop);
    // Rename then drop: a renamed field is dropped only by its new name.
    const moves = renames.filter(([, to]) => !dropped.has(to));
    const adds = Object.entries(options.add).map(([key, value]) =>
      [key, deepFreeze(value)] as const
    );
    const defaults = Object.entries(options.add_missing).map(([key, value]) =>
      [key, deepFreeze(value)] as const
    );
    const skip = new Set([...renamed, ...dropped]);
    return (record: LogRecord): LogRecord => {
      const source = record.fields;
      const fields: Record<string, unknown> = {};
      for (const key in source) if (!skip.has(key)) fields[key] = source[key];
      for (let i = 0; i < moves.length; i++) {
        const [from, to] = moves[i]!;
        if (Object.hasOwn(source, from)) fields[to] = source[from];
      }
      for (let i = 0; i < adds.length; i++) fields[adds[i]![0]] = adds[i]![1];
      for (let i = 0; i < defaults.length; i++) {
        const [key, value] = defaults[i]!;
        if (fields[key] === undefined) fields[key] = value;
      }
      const out: LogRecord = {
        time: record.time,
        level: record.level,
        logger: record.logger,
        message: record.message,
        fields,
      };
      if (record.error !== undefined) out.error = record.error;
      if (record.caller !== undefined) out.caller = record.caller;
      if (record.trace_id !== undefined) {
        out.trace_id = record.trace_id;
        out.span_id = record.span_id!;
        if (record.parent_span_id !== undefined) out.parent_span_id = record.parent_span_id;
        if (record.trace_flags !== undefined) out.trace_flags = record.trace_flags;
      }
      return out;
    };
  },
});

/** Static values are shared by every record, so they are made read-only once. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

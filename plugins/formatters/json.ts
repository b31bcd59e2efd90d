/**
 * The `json` formatter: one JSON object per line.
 *
 * @module
 */

import { levelName } from "../../src/core/levels.ts";
import { safeStringify } from "../../src/core/safe_stringify.ts";
import type { LogRecord } from "../../src/core/record.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { jsonOptions } from "../../src/format/json_options.ts";
import { isoTimeCache } from "../../src/core/time_cache.ts";
import { wellFormedJson } from "../../src/core/well_formed_json.ts";

/**
 * Writes `{"time":…,"level":…,"logger":…,"message":…,"trace_id":…,"span_id":…,
 * "parent_span_id":…, <fields>, "error":{…}}`. Field names are stable: `time` is ISO 8601 UTC
 * (or epoch ms with `time: epoch_ms`), `level` the level name (or number with
 * `level: number`), the trace ids only when the record has them, fields merged at the top
 * level. A field whose key collides with one of those is written as `fields.<key>`. A string
 * that is not well-formed UTF-16 (a lone surrogate) is written with U+FFFD in its place, so
 * every strict JSON reader takes the line.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   file: { type: file, path: logs/app.log, format: json }
 *   raw:  { type: file, path: logs/raw.log, format: { type: json, time: epoch_ms, level: number } }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "formatter",
  type: "json",
  description: "One JSON object per line with stable field names, fields merged at the top level.",
  options: jsonOptions,
  create(options) {
    const isoTime = options.time === "iso" ? isoTimeCache() : undefined;
    const numericLevel = options.level === "number";
    return (record: LogRecord): string => {
      let out = isoTime ? '{"time":"' + isoTime(record.time) + '"' : '{"time":' + record.time;
      out += numericLevel
        ? ',"level":' + record.level
        : ',"level":"' + levelName(record.level) + '"';
      out += ',"logger":' + JSON.stringify(record.logger) + ',"message":' +
        JSON.stringify(record.message);
      const fields = record.fields;
      const traced = record.trace_id !== undefined;
      if (traced) {
        out += ',"trace_id":"' + record.trace_id + '","span_id":"' + record.span_id + '"';
        if (record.parent_span_id !== undefined) {
          out += ',"parent_span_id":"' + record.parent_span_id + '"';
        }
      }
      if (
        "time" in fields || "level" in fields || "logger" in fields || "message" in fields ||
        "error" in fields ||
        (traced && ("trace_id" in fields || "span_id" in fields || "parent_span_id" in fields))
      ) {
        out += renderColliding(fields, traced);
      } else {
        const body = safeStringify(fields);
        if (body.length > 2) out += "," + body.slice(1, -1);
      }
      if (record.error !== undefined) out += ',"error":' + safeStringify(record.error);
      return wellFormedJson(out + "}");
    };
  },
});

const RESERVED = new Set(["time", "level", "logger", "message", "error"]);
const TRACE_KEYS = new Set(["trace_id", "span_id", "parent_span_id"]);

function renderColliding(fields: Record<string, unknown>, traced: boolean): string {
  let out = "";
  for (const key in fields) {
    const name = RESERVED.has(key) || (traced && TRACE_KEYS.has(key)) ? "fields." + key : key;
    const value = safeStringify(fields[key]);
    if (value !== undefined) out += "," + JSON.stringify(name) + ":" + value;
  }
  return out;
}

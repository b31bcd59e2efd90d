/**
 * The `logfmt` formatter: `time=… level=info logger=app msg="hello world" user=ada`.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";
import { isoTimeCache } from "../../src/core/time_cache.ts";
import { formatLogfmtPairs, logfmtValue } from "../../src/format/logfmt_pairs.ts";

const LEVELS: Record<number, string> = {
  5: "trace",
  10: "debug",
  20: "info",
  30: "warn",
  40: "error",
  50: "critical",
};

/**
 * One logfmt line per record; the error becomes `error.name`, `error.message` and
 * `error.stack` pairs. A field whose key repeats a built-in key (`time`, `level`, `logger`,
 * `msg`, the trace ids, `error` beside an error) is written as `fields.<key>`.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   out: { type: console, format: logfmt }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "formatter",
  type: "logfmt",
  description:
    "key=value pairs: time, level, logger, msg, trace ids, then fields (nested keys joined with dots).",
  options: s.object({
    time: s.enum(["iso", "epoch_ms"] as const).default("iso").describe("How `time` is written."),
  }),
  create(options) {
    const iso = options.time === "iso" ? isoTimeCache() : undefined;
    return (record: LogRecord): string => {
      let out = "time=" + (iso ? iso(record.time) : String(record.time)) + " level=" +
        (LEVELS[record.level] ?? String(record.level)) + " logger=" +
        logfmtValue(record.logger || "root") +
        " msg=" + logfmtValue(record.message);
      if (record.trace_id !== undefined) {
        out += " trace_id=" + record.trace_id + " span_id=" + record.span_id;
        if (record.parent_span_id !== undefined) out += " parent_span_id=" + record.parent_span_id;
      }
      const fields = record.fields;
      const erred = record.error !== undefined;
      const clash = "time" in fields || "level" in fields || "logger" in fields ||
        "msg" in fields || (erred && "error" in fields) ||
        (record.trace_id !== undefined &&
          ("trace_id" in fields || "span_id" in fields || "parent_span_id" in fields));
      const pairs = formatLogfmtPairs(
        clash ? movedAside(fields, record.trace_id !== undefined, erred) : fields,
      );
      if (pairs) out += " " + pairs;
      if (record.error) {
        out += " error.name=" + logfmtValue(record.error.name) + " error.message=" +
          logfmtValue(record.error.message);
        if (record.error.stack) out += " error.stack=" + logfmtValue(record.error.stack);
      }
      return out;
    };
  },
});

const RESERVED = new Set(["time", "level", "logger", "msg"]);
const TRACE_KEYS = new Set(["trace_id", "span_id", "parent_span_id"]);

/**
 * The fields with each key that would repeat a built-in key renamed `fields.<key>`, as the
 * json formatter does: a reader of logfmt keeps one value per key (the first or the last).
 */
function movedAside(
  fields: Record<string, unknown>,
  traced: boolean,
  erred: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) {
    const clash = RESERVED.has(key) || (traced && TRACE_KEYS.has(key)) ||
      (erred && key === "error");
    out[clash ? "fields." + key : key] = fields[key];
  }
  return out;
}

/**
 * The `json` formatter: one JSON object per line.
 *
 * @module
 */

import { levelName } from "../../../src/core/levels.ts";
import { safeStringify } from "../../../src/core/safe_stringify.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { JSON_CORE_KEYS, jsonOptions } from "../../../src/format/json_options.ts";
import { wellFormedJson } from "../../../src/core/well_formed_json.ts";
import { isoTimeCache } from "../../../src/core/time_cache.ts";
import { JsonFieldsRecord } from "../../../src/core/json_fields_record.ts";
import { ecsFormatter } from "./ecs.ts";
import { otelFormatter } from "./otel.ts";

type CoreKey = typeof JSON_CORE_KEYS[number];

/** What no record holds: a cache's key before its first record. */
const UNSET: unique symbol = Symbol("unset");

/**
 * Writes `{"time":…,"level":…,"logger":…,"message":…,"trace_id":…,"span_id":…,
 * "parent_span_id":…, "caller":{…}, <fields>, "error":{…}}`. Field names are stable: `time` is
 * ISO 8601 UTC (or epoch ms with `time: epoch_ms`), `level` the level name (or number with
 * `level: number`), the trace ids only when the record has them, `caller` (file, line,
 * column, function, module) only on records of loggers with `caller: true`, fields merged at
 * the top level. A field whose key collides with one of those is written as `fields.<key>`. A string
 * that is not well-formed UTF-16 (a lone surrogate) is written with U+FFFD in its place, so
 * every strict JSON reader takes the line.
 *
 * `keys:` renames the record's own keys (`keys: { time: timestamp, message: msg }`, as pino
 * and LogTape users expect); a field then collides with the new names. `naming: ecs` writes
 * Elastic Common Schema 8 instead (`@timestamp`, `log.level`, `ecs.version`, `service.name`,
 * `trace.id`, the fields under `namespace`), `naming: otel` the OpenTelemetry log data model
 * (`Timestamp`, `SeverityText`, `SeverityNumber`, `Body`, `Attributes`, `TraceId`, `SpanId`,
 * `Resource`); `service` names the service for both.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   file: { type: file, path: logs/app.log, format: json }
 *   raw:  { type: file, path: logs/raw.log, format: { type: json, time: epoch_ms, level: number } }
 *   pino: { type: file, path: logs/pino.log, format: { type: json, keys: { time: timestamp, message: msg } } }
 *   ecs:  { type: file, path: logs/ecs.log, format: { type: json, naming: ecs, service: checkout } }
 *   otel: { type: file, path: logs/otel.log, format: { type: json, naming: otel, service: checkout } }
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
    if (options.naming === "ecs") {
      return ecsFormatter({ service: options.service, namespace: options.namespace });
    }
    if (options.naming === "otel") return otelFormatter({ service: options.service });
    const names = {} as Record<CoreKey, string>;
    for (const key of JSON_CORE_KEYS) names[key] = options.keys?.[key] ?? key;
    const q = (key: CoreKey) => wellFormedJson(JSON.stringify(names[key]));
    const timeKey = "{" + q("time") + ":";
    const levelKey = "," + q("level") + ":";
    const loggerKey = "," + q("logger") + ":";
    const messageKey = "," + q("message") + ":";
    const traceKey = "," + q("trace_id") + ':"';
    const spanKey = '",' + q("span_id") + ':"';
    const parentKey = "," + q("parent_span_id") + ':"';
    const errorKey = "," + q("error") + ":";
    const callerKey = "," + q("caller") + ":";
    const callerName = names.caller;
    const reserved = new Set([names.time, names.level, names.logger, names.message, names.error]);
    const traceNames = new Set([names.trace_id, names.span_id, names.parent_span_id]);
    const [r0, r1, r2, r3, r4] = [...reserved];
    const [t0, t1, t2] = [...traceNames];
    // With the default key names, no field of a record from the fast JSON line reader can
    // collide with a record key (it leaves such lines to the slow path), so its fields' text,
    // already as JSON.stringify writes it, goes into the line as it is.
    const defaultNames = JSON_CORE_KEYS.every((key) => names[key] === key);
    const isoTime = options.time === "iso" ? isoTimeCache() : undefined;
    const numericLevel = options.level === "number";
    // The line's head is cached in three parts: records of a burst share their millisecond,
    // records of one logger their level and name (a record from ingest has a new time every
    // 0.1 ms but the same level and logger), and a loop's records their message; and whole,
    // so that a loop's line is one new string piece besides its fields. Each part is checked
    // for lone surrogates once, when it is made, and each value after it as it is
    // serialized: a piece of valid JSON ends where an escape cannot continue, so this is what
    // checking the whole line found, without scanning the line twice per record (5-14% of
    // the busy time when it did).
    let lastTime: unknown = NaN;
    let timeText = "";
    let lastLevel = NaN;
    let lastLogger: unknown = UNSET;
    let levelText = "";
    let lastMessage: unknown = UNSET;
    let messageText = "";
    /** `timeText + levelText + messageText`, and the same with the comma before fields. */
    let head = "";
    let headComma = "";
    let headValid = false;
    const formatter = (record: LogRecord): string => {
      const time = record.time;
      if (time !== lastTime) {
        timeText = checked(isoTime ? timeKey + '"' + isoTime(time) + '"' : timeKey + time);
        lastTime = time;
        headValid = false;
      }
      const level = record.level;
      const logger = record.logger;
      if (level !== lastLevel || logger !== lastLogger) {
        levelText = (numericLevel ? levelKey + level : levelKey + '"' + levelName(level) + '"') +
          loggerKey + checked(JSON.stringify(logger)) + messageKey;
        lastLevel = level;
        lastLogger = logger;
        headValid = false;
      }
      const message = record.message;
      if (message !== lastMessage) {
        messageText = checked(JSON.stringify(message));
        lastMessage = message;
        headValid = false;
      }
      if (!headValid) {
        head = timeText + levelText + messageText;
        headComma = head + ",";
        headValid = true;
      }
      if (defaultNames) {
        const json = JsonFieldsRecord.fieldsJson(record);
        if (
          json !== undefined && record.trace_id === undefined && record.caller === undefined &&
          record.error === undefined
        ) return json === "" ? head + "}" : headComma + json + "}";
      }
      let out = head;
      const fields = record.fields;
      const traced = record.trace_id !== undefined;
      if (traced) {
        let ids = traceKey + record.trace_id + spanKey + record.span_id + '"';
        if (record.parent_span_id !== undefined) {
          ids += parentKey + record.parent_span_id + '"';
        }
        out += checked(ids);
      }
      const caller = record.caller;
      if (caller !== undefined) out += callerKey + checked(JSON.stringify(caller));
      const error = record.error;
      if (
        r0! in fields || r1! in fields || r2! in fields || r3! in fields || r4! in fields ||
        (traced && (t0! in fields || t1! in fields || t2! in fields)) ||
        (caller !== undefined && callerName in fields)
      ) {
        out += checked(renderColliding(
          fields,
          reserved,
          traced ? traceNames : undefined,
          caller !== undefined ? callerName : undefined,
        ));
      } else {
        const body = safeStringify(fields);
        if (body.length > 2) {
          // `{"id":1,…}` without its `{`, so its `}` closes the line: one piece less.
          if (error === undefined) {
            return (out === head ? headComma : out + ",") + checked(body).slice(1);
          }
          out += "," + checked(body).slice(1, -1);
        }
      }
      if (error !== undefined) out += errorKey + checked(safeStringify(error));
      return out + "}";
    };
    if (defaultNames) JsonFieldsRecord.mark(formatter);
    return formatter;
  },
});

/**
 * `json` made well-formed ({@linkcode wellFormedJson}); JSON text holds `\u` only for a
 * control character, a lone surrogate or an escaped backslash before a `u`, so most values
 * take one short scan. `undefined` (what `JSON.stringify` gives for a broken record's
 * value) passes through, as it did when the whole line was checked.
 */
function checked(json: string): string {
  return json === undefined || json.indexOf("\\u") === -1 ? json : wellFormedJson(json);
}

function renderColliding(
  fields: Record<string, unknown>,
  reserved: ReadonlySet<string>,
  traceNames: ReadonlySet<string> | undefined,
  callerName: string | undefined,
): string {
  let out = "";
  for (const key in fields) {
    const name = reserved.has(key) || traceNames?.has(key) || key === callerName
      ? "fields." + key
      : key;
    const value = safeStringify(fields[key]);
    if (value !== undefined) out += "," + JSON.stringify(name) + ":" + value;
  }
  return out;
}

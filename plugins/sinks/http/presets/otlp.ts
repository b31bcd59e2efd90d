/**
 * The `otlp` preset of the `http` sink: OTLP/HTTP JSON logs.
 *
 * @module
 */

import { levelName } from "../../../../src/core/levels.ts";
import { otelAttributes, otelNanos, otelSeverity } from "../../../../src/format/otel_mapping.ts";
import { wellFormedJson } from "../../../../src/core/well_formed_json.ts";
import type { HttpPreset, ItemOutcome } from "./preset.ts";
import { readPrefix } from "../read_prefix.ts";

/** An OTLP `AnyValue` in its JSON encoding. */
export type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } }
  | { kvlistValue: { values: { key: string; value: OtlpAnyValue }[] } }
  | Record<string, never>;

/** Options of {@linkcode otlpPreset}. */
export interface OtlpOptions {
  /** Resource attributes, such as `service.name`. */
  resource: Record<string, unknown>;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Encodes a value as an OTLP `AnyValue` a collector accepts: strings, booleans, integers (as
 * decimal strings, the JSON form of int64; a BigInt outside int64 as its decimal
 * `stringValue`, which `intValue` cannot hold), doubles, Dates as ISO 8601 `stringValue`s,
 * arrays, maps (`kvlistValue`); `null`, `undefined` and non-finite numbers as an empty value;
 * anything else as its text. (Ill-formed strings are mended in the JSON text, see
 * {@linkcode otlpPreset}.)
 *
 * @example Encode a map
 * ```ts
 * import { otlpValue } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * const v = otlpValue({ n: 3, ok: true });
 * assert.ok(JSON.stringify(v) === '{"kvlistValue":{"values":[{"key":"n","value":{"intValue":"3"}},{"key":"ok","value":{"boolValue":true}}]}}');
 * ```
 */
export function otlpValue(value: unknown, depth = 0): OtlpAnyValue {
  switch (typeof value) {
    case "string":
      return { stringValue: value };
    case "boolean":
      return { boolValue: value };
    case "number":
      if (!Number.isFinite(value)) return {};
      return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
    case "bigint":
      return value >= INT64_MIN && value <= INT64_MAX
        ? { intValue: value.toString() }
        : { stringValue: value.toString() };
    case "object": {
      if (value === null) return {};
      if (value instanceof Date) {
        return {
          stringValue: Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString(),
        };
      }
      if (depth > 16) return { stringValue: "[too deep]" };
      if (Array.isArray(value)) {
        return { arrayValue: { values: value.map((v) => otlpValue(v, depth + 1)) } };
      }
      const values: { key: string; value: OtlpAnyValue }[] = [];
      for (const [key, v] of Object.entries(value)) {
        if (v !== undefined) values.push({ key, value: otlpValue(v, depth + 1) });
      }
      return { kvlistValue: { values } };
    }
    case "undefined":
      return {};
    default:
      return { stringValue: String(value) };
  }
}

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const ZERO = /^0+$/;
const TRACE_KEYS = ["trace_id", "traceId", "trace.id"];
const SPAN_KEYS = ["span_id", "spanId", "span.id"];
const FLAGS_KEYS = ["trace_flags", "traceFlags", "trace.flags"];

/** A W3C id in lower case, or `undefined` for an all-zero (invalid) one. */
function validId(id: string): string | undefined {
  return ZERO.test(id) ? undefined : id.toLowerCase();
}

/** Trace flags from a field: an integer 0-255 or two hex digits (`"01"`). */
function traceFlags(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255) {
    return value;
  }
  if (typeof value === "string" && /^[0-9a-fA-F]{2}$/.test(value)) return parseInt(value, 16);
  return undefined;
}

/**
 * OTLP/HTTP JSON (`POST /v1/logs`, `application/json`): one `resourceLogs` entry with the
 * configured resource attributes, one `scopeLogs` entry per logger name (the scope), and per
 * record a `logRecord` with `timeUnixNano` and `observedTimeUnixNano` (nanoseconds as
 * decimal strings), `severityNumber` and `severityText`, the message as `body.stringValue`,
 * the fields as `attributes`, an error as the `exception.type`, `exception.message` and
 * `exception.stacktrace` attributes (the stack trace followed by the `cause` chain), and the
 * record's `trace_id`, `span_id` and `trace_flags` as `traceId`, `spanId` and `flags`
 * (`parent_span_id` as an attribute); a record without a span falls back to fields
 * `trace_id`/`span_id`/`trace_flags` (or `traceId`/`spanId`/`traceFlags`, `trace.id` …)
 * holding hex of the right length in either case. All-zero ids are invalid in W3C Trace
 * Context and left out. The JSON text is well-formed (a lone surrogate becomes U+FFFD), and
 * a 200 answer's `partialSuccess.rejectedLogRecords` is read: that many records count as
 * refused (`otlp_rejected`, with the collector's `errorMessage`), the request's last ones,
 * since OTLP does not say which.
 *
 * @example One record
 * ```ts
 * import { otlpPreset } from "./otlp.ts";
 * import { createRecord } from "../../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const preset = otlpPreset({ resource: { "service.name": "payments" } });
 * const record = createRecord({ time: 1, level: 40, logger: "pay", message: "boom", fields: { n: 1 } });
 * const body = JSON.parse(preset.body([preset.item(record)], [record]));
 * const log = body.resourceLogs[0].scopeLogs[0].logRecords[0];
 * assert.ok(log.timeUnixNano === "1000000" && log.severityNumber === 17 && log.body.stringValue === "boom");
 * ```
 */
export function otlpPreset(options: OtlpOptions): HttpPreset {
  const resource = wellFormedJson(JSON.stringify({
    attributes: Object.entries(options.resource).map(([key, value]) => ({
      key,
      value: otlpValue(value),
    })),
  }));
  return {
    contentType: "application/json",
    overhead: 120 + resource.length,
    item(record) {
      const nanos = otelNanos(record.time);
      const attributes: { key: string; value: OtlpAnyValue }[] = [];
      let traceId: string | undefined;
      let spanId: string | undefined;
      let flags: number | undefined;
      const fields = record.fields;
      for (const key in fields) {
        const value = fields[key];
        if (value === undefined) continue;
        if (typeof value === "string") {
          if (traceId === undefined && TRACE_KEYS.includes(key) && HEX32.test(value)) {
            traceId = validId(value) ?? "";
            continue;
          }
          if (spanId === undefined && SPAN_KEYS.includes(key) && HEX16.test(value)) {
            spanId = validId(value) ?? "";
            continue;
          }
        }
        if (flags === undefined && FLAGS_KEYS.includes(key)) {
          flags = traceFlags(value);
          if (flags !== undefined) continue;
        }
        attributes.push({ key, value: otlpValue(value) });
      }
      if (record.parent_span_id !== undefined) {
        attributes.push({ key: "parent_span_id", value: { stringValue: record.parent_span_id } });
      }
      for (const [key, value] of otelAttributes(record)) {
        attributes.push({ key, value: otlpValue(value) });
      }
      const log: Record<string, unknown> = {
        timeUnixNano: nanos,
        observedTimeUnixNano: nanos,
        severityNumber: otelSeverity(record.level),
        severityText: levelName(record.level),
        body: { stringValue: record.message },
        attributes,
      };
      const ownTrace = record.trace_id === undefined ? undefined : validId(record.trace_id);
      if (ownTrace !== undefined) {
        // The record's own span wins over fields that look like ids.
        log.traceId = ownTrace;
        const ownSpan = record.span_id === undefined ? undefined : validId(record.span_id);
        if (ownSpan !== undefined) log.spanId = ownSpan;
        if (record.trace_flags !== undefined) log.flags = record.trace_flags & 0xff;
      } else if (traceId) {
        log.traceId = traceId;
        if (spanId) log.spanId = spanId;
        if (flags !== undefined) log.flags = flags;
      } else if (spanId) {
        log.spanId = spanId;
      }
      return wellFormedJson(JSON.stringify(log));
    },
    body(items, records) {
      // One scope per logger name, in order of first appearance.
      const scopes = new Map<string, string[]>();
      for (let i = 0; i < items.length; i++) {
        const name = records[i]!.logger;
        let list = scopes.get(name);
        if (!list) scopes.set(name, list = []);
        list.push(items[i]!);
      }
      let scopeLogs = "";
      for (const [name, list] of scopes) {
        if (scopeLogs) scopeLogs += ",";
        scopeLogs += '{"scope":{"name":' + wellFormedJson(JSON.stringify(name)) +
          '},"logRecords":[' +
          list.join(",") + "]}";
      }
      return '{"resourceLogs":[{"resource":' + resource + ',"scopeLogs":[' + scopeLogs + "]}]}";
    },
    outcome: partialSuccess,
  };
}

/**
 * An `ExportLogsServiceResponse` is a count and one message; a longer answer is cut here (and,
 * no longer JSON, counts as success, as a body that is not such JSON does).
 */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Reads an `ExportLogsServiceResponse`: `partialSuccess.rejectedLogRecords` (an int64, so a
 * string or a number) records were refused. A body that is not such JSON counts as full
 * success, as OTLP says an empty answer does.
 */
async function partialSuccess(response: Response, count: number): Promise<ItemOutcome> {
  let answer: unknown;
  try {
    answer = JSON.parse((await readPrefix(response, MAX_ANSWER_BYTES)).text);
  } catch {
    return { retry: [], reject: [] };
  }
  const partial = (answer as { partialSuccess?: Record<string, unknown> } | null)?.partialSuccess;
  const rejected = Math.min(count, Number(partial?.rejectedLogRecords ?? 0));
  if (!(rejected > 0)) return { retry: [], reject: [] };
  const message = typeof partial?.errorMessage === "string" && partial.errorMessage !== ""
    ? partial.errorMessage
    : "no reason given";
  const detail = `the collector rejected ${rejected} of ${count} log records: ${message}`;
  const reject = [];
  for (let index = count - rejected; index < count; index++) {
    reject.push({ index, reason: "otlp_rejected", detail });
  }
  return { retry: [], reject };
}

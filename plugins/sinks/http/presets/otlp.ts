/**
 * The `otlp` preset of the `http` sink: OTLP/HTTP JSON logs.
 *
 * @module
 */

import { levelName } from "../../../../src/core/levels.ts";
import type { HttpPreset } from "./preset.ts";

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

/**
 * The OpenTelemetry severity number of a level: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17,
 * CRITICAL 21 (FATAL); levels between take the number of the level below.
 *
 * @example Map levels
 * ```ts
 * import { otlpSeverity } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * assert.ok(otlpSeverity(20) === 9 && otlpSeverity(50) === 21 && otlpSeverity(5) === 1);
 * ```
 */
export function otlpSeverity(level: number): number {
  return level >= 50
    ? 21
    : level >= 40
    ? 17
    : level >= 30
    ? 13
    : level >= 20
    ? 9
    : level >= 10
    ? 5
    : 1;
}

/**
 * Encodes a value as an OTLP `AnyValue`: strings, booleans, integers (as decimal strings, the
 * JSON form of int64), doubles, arrays, maps (`kvlistValue`); `null`, `undefined` and
 * non-finite numbers as an empty value; anything else as its JSON text.
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
      return { intValue: value.toString() };
    case "object": {
      if (value === null) return {};
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

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const TRACE_KEYS = ["trace_id", "traceId", "trace.id"];
const SPAN_KEYS = ["span_id", "spanId", "span.id"];

/**
 * OTLP/HTTP JSON (`POST /v1/logs`, `application/json`): one `resourceLogs` entry with the
 * configured resource attributes, one `scopeLogs` entry per logger name (the scope), and per
 * record a `logRecord` with `timeUnixNano` and `observedTimeUnixNano` (nanoseconds as
 * decimal strings), `severityNumber` and `severityText`, the message as `body.stringValue`,
 * the fields as `attributes`, an error as the `exception.type`, `exception.message` and
 * `exception.stacktrace` attributes, and the record's `trace_id`, `span_id` and
 * `trace_flags` as `traceId`, `spanId` and `flags` (`parent_span_id` as an attribute); a
 * record without a span falls back to a field `trace_id`/`span_id` (or `traceId`/`spanId`)
 * holding lower-case hex of the right length.
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
  const resource = JSON.stringify({
    attributes: Object.entries(options.resource).map(([key, value]) => ({
      key,
      value: otlpValue(value),
    })),
  });
  return {
    contentType: "application/json",
    overhead: 120 + resource.length,
    item(record) {
      const nanos = nanoseconds(record.time);
      const attributes: { key: string; value: OtlpAnyValue }[] = [];
      let traceId: string | undefined;
      let spanId: string | undefined;
      const fields = record.fields;
      for (const key in fields) {
        const value = fields[key];
        if (value === undefined) continue;
        if (typeof value === "string") {
          if (traceId === undefined && TRACE_KEYS.includes(key) && HEX32.test(value)) {
            traceId = value;
            continue;
          }
          if (spanId === undefined && SPAN_KEYS.includes(key) && HEX16.test(value)) {
            spanId = value;
            continue;
          }
        }
        attributes.push({ key, value: otlpValue(value) });
      }
      if (record.parent_span_id !== undefined) {
        attributes.push({ key: "parent_span_id", value: { stringValue: record.parent_span_id } });
      }
      const error = record.error;
      if (error) {
        attributes.push({ key: "exception.type", value: { stringValue: error.name } });
        attributes.push({ key: "exception.message", value: { stringValue: error.message } });
        if (error.stack !== undefined) {
          attributes.push({ key: "exception.stacktrace", value: { stringValue: error.stack } });
        }
      }
      const log: Record<string, unknown> = {
        timeUnixNano: nanos,
        observedTimeUnixNano: nanos,
        severityNumber: otlpSeverity(record.level),
        severityText: levelName(record.level),
        body: { stringValue: record.message },
        attributes,
      };
      if (record.trace_id !== undefined) {
        // The record's own span wins over fields that look like ids.
        log.traceId = record.trace_id;
        if (record.span_id !== undefined) log.spanId = record.span_id;
        if (record.trace_flags !== undefined) log.flags = record.trace_flags & 0xff;
      } else {
        if (traceId !== undefined) log.traceId = traceId;
        if (spanId !== undefined) log.spanId = spanId;
      }
      return JSON.stringify(log);
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
        scopeLogs += '{"scope":{"name":' + JSON.stringify(name) + '},"logRecords":[' +
          list.join(",") + "]}";
      }
      return '{"resourceLogs":[{"resource":' + resource + ',"scopeLogs":[' + scopeLogs + "]}]}";
    },
  };
}

/** Epoch milliseconds (possibly fractional) as decimal nanoseconds, without float overflow. */
export function nanoseconds(ms: number): string {
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 1_000_000);
  return (BigInt(whole) * 1_000_000n + BigInt(fraction)).toString();
}

/**
 * Turns an ingested object (a JSON line, a posted record) into a record.
 *
 * @module
 */

import { parseLevel } from "../core/levels.ts";
import type { LogRecord, SerializedError } from "../core/record.ts";
import { setOwn } from "../core/set_own.ts";
import { isSpanId, isTraceId } from "../core/traceparent.ts";
import { ParseError } from "./parse_error.ts";
import { messageOf } from "../core/message_of.ts";

/**
 * The keys a record is read from, each with its rank among the keys of its kind (0 wins).
 * Every one of them is consumed: none becomes a field, even when a better-ranked key won.
 */
const TIME_RANK: Record<string, number> = { time: 0, timestamp: 1, "@timestamp": 2, ts: 3 };
const LEVEL_RANK: Record<string, number> = { level: 0, severity: 1, levelname: 2, lvl: 3 };
const LOGGER_RANK: Record<string, number> = { logger: 0, name: 1, logger_name: 2 };
const MESSAGE_RANK: Record<string, number> = { message: 0, msg: 1 };

/** The largest time a Date holds (ms from the epoch, either way): no formatter writes beyond. */
const MAX_TIME = 8.64e15;

/**
 * Parses a time value: ISO 8601 text, epoch milliseconds, or epoch seconds (a number below
 * 10^11, as Python's `created` and Unix timestamps are). Returns `undefined` when unusable,
 * beyond what a Date holds (±8.64e15 ms) included: such a time could not be written.
 *
 * @example Seconds, milliseconds and ISO text
 * ```ts
 * import { parseTime } from "./record_from_object.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseTime(1.5) === 1500);
 * assert.ok(parseTime(1_700_000_000_000) === 1_700_000_000_000);
 * assert.ok(parseTime("1970-01-01T00:00:01Z") === 1000);
 * ```
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    const ms = value < 1e11 ? Math.round(value * 1000) : value;
    return ms <= MAX_TIME && ms >= -MAX_TIME ? ms : undefined;
  }
  if (typeof value === "string" && value !== "") {
    // Ingested lines of a burst share their timestamp text: remember the last one.
    if (value === lastTimeText) return lastTime;
    let t: number | undefined;
    if (/^\d+(\.\d+)?$/.test(value)) t = parseTime(Number(value));
    else {
      t = Date.parse(value);
      if (Number.isNaN(t)) t = undefined;
    }
    lastTimeText = value;
    lastTime = t;
    return t;
  }
  return undefined;
}

let lastTimeText = "";
let lastTime: number | undefined;

/**
 * Maps a plain object to a record. Recognised keys: time (`time`, `timestamp`,
 * `@timestamp`, `ts`), level (`level`, `severity`, `levelname`, `lvl`: a name or number),
 * logger (`logger`, `name`), message (`message`, `msg`), `error`, and `fields` (merged);
 * `trace_id` and `span_id` (and `parent_span_id`) become the record's span when they are valid
 * W3C ids (else fields); every other key becomes a field. Missing time is `now`; missing level is INFO.
 * When no time key is usable (text that is no time, a number beyond a Date's range), the time
 * is `now` and each unusable time stays a field under its own key, so nothing the sender
 * wrote is lost.
 *
 * @example A JSON line's object
 * ```ts
 * import { recordFromObject } from "./record_from_object.ts";
 * import assert from "node:assert/strict";
 * const record = recordFromObject({ level: "error", msg: "boom", user: "ada" }, 0);
 * assert.ok(record.level === 40 && record.message === "boom" && record.fields.user === "ada");
 * ```
 */
export function recordFromObject(object: Record<string, unknown>, now: number): LogRecord {
  // One pass over the keys: ingest parses every line this way, so no lookup per known key.
  let time: number | undefined;
  let timeRank = 4;
  let level: number | undefined;
  let levelRank = 4;
  let logger: string | undefined;
  let loggerRank = 3;
  let message: string | undefined;
  let messageRank = 2;
  let nested: unknown;
  let error: unknown;
  let fields: Record<string, unknown> = {};
  let ids: Record<string, unknown> | undefined;
  let unusableTimes: string[] | undefined;
  for (const key in object) {
    const value = object[key];
    switch (key) {
      case "time":
      case "timestamp":
      case "@timestamp":
      case "ts": {
        const rank = TIME_RANK[key]!;
        if (rank < timeRank) {
          const t = parseTime(value);
          if (t !== undefined) {
            time = t;
            timeRank = rank;
          } else (unusableTimes ??= []).push(key);
        }
        break;
      }
      case "level":
      case "severity":
      case "levelname":
      case "lvl": {
        const rank = LEVEL_RANK[key]!;
        if (rank < levelRank) {
          const l = parseLevel(value);
          if (l !== undefined) {
            level = l;
            levelRank = rank;
          }
        }
        break;
      }
      case "logger":
      case "name":
      case "logger_name": {
        const rank = LOGGER_RANK[key]!;
        if (rank < loggerRank && typeof value === "string") {
          logger = value;
          loggerRank = rank;
        }
        break;
      }
      case "message":
      case "msg": {
        const rank = MESSAGE_RANK[key]!;
        if (rank < messageRank) {
          message = stringOf(value);
          messageRank = rank;
        }
        break;
      }
      case "error":
        error = value;
        break;
      case "fields":
        nested = value;
        break;
      case "trace_id":
      case "span_id":
      case "parent_span_id":
        // Only a valid trace and span id pair is lifted; otherwise they stay fields (below).
        (ids ??= {})[key] = value;
        break;
      default:
        setOwn(fields, key, value);
    }
  }
  if (typeof nested === "object" && nested !== null && !Array.isArray(nested)) {
    // Nested fields come first; a top-level key of the same name overrides the value in place.
    const merged: Record<string, unknown> = {};
    for (const key of Object.keys(nested)) {
      setOwn(merged, key, (nested as Record<string, unknown>)[key]);
    }
    for (const key in fields) setOwn(merged, key, fields[key]);
    fields = merged;
  }
  if (time === undefined && unusableTimes !== undefined) {
    for (const key of unusableTimes) setOwn(fields, key, object[key]);
  }
  const record: LogRecord = {
    time: time ?? now,
    level: level ?? 20,
    logger: logger ?? "",
    message: message ?? "",
    fields,
  };
  const serialized = errorOf(error);
  if (serialized) record.error = serialized;
  if (ids !== undefined) {
    if (isTraceId(ids.trace_id) && isSpanId(ids.span_id)) {
      record.trace_id = ids.trace_id;
      record.span_id = ids.span_id;
      if (isSpanId(ids.parent_span_id)) record.parent_span_id = ids.parent_span_id;
      else if ("parent_span_id" in ids) setOwn(fields, "parent_span_id", ids.parent_span_id);
    } else for (const key in ids) setOwn(fields, key, ids[key]);
  }
  return record;
}

/**
 * Parses one JSON line into a record; throws {@linkcode ParseError} (`invalid_json`,
 * `not_an_object`) when it is not a JSON object.
 *
 * @example Parse a line
 * ```ts
 * import { parseJsonLine } from "./record_from_object.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseJsonLine('{"msg":"hi"}', 0).message === "hi");
 * ```
 */
export function parseJsonLine(line: string, now: number): LogRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ParseError(`Invalid JSON: ${messageOf(error)}`, "invalid_json");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ParseError("Expected a JSON object", "not_an_object");
  }
  return recordFromObject(value as Record<string, unknown>, now);
}

function stringOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function errorOf(value: unknown): SerializedError | undefined {
  if (typeof value === "string") return { name: "Error", message: value };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const out: SerializedError = {
    name: typeof v.name === "string" ? v.name : "Error",
    message: typeof v.message === "string" ? v.message : stringOf(v.message),
  };
  if (typeof v.stack === "string") out.stack = v.stack;
  const cause = errorOf(v.cause);
  if (cause) out.cause = cause;
  return out;
}

/**
 * Turns an ingested object (a JSON line, a posted record) into a record.
 *
 * @module
 */

import { parseLevel } from "../core/levels.ts";
import type { LogRecord, SerializedError } from "../core/record.ts";

const TIME_KEYS = ["time", "timestamp", "@timestamp", "ts"];
const LEVEL_KEYS = ["level", "severity", "levelname", "lvl"];
const LOGGER_KEYS = ["logger", "name", "logger_name"];
const MESSAGE_KEYS = ["message", "msg"];
const CONSUMED = new Set([
  ...TIME_KEYS,
  ...LEVEL_KEYS,
  ...LOGGER_KEYS,
  ...MESSAGE_KEYS,
  "error",
  "fields",
]);

/** Why an input could not become a record; its `reason` is the rejection label in /metrics. */
export class ParseError extends Error {
  /** Creates the error with a short machine reason such as `invalid_json`. */
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = "ParseError";
  }
}

/**
 * Parses a time value: ISO 8601 text, epoch milliseconds, or epoch seconds (a number below
 * 10^11, as Python's `created` and Unix timestamps are). Returns `undefined` when unusable.
 *
 * @example Seconds, milliseconds and ISO text
 * ```ts
 * import { parseTime } from "./record_from_object.ts";
 * console.assert(parseTime(1.5) === 1500);
 * console.assert(parseTime(1_700_000_000_000) === 1_700_000_000_000);
 * console.assert(parseTime("1970-01-01T00:00:01Z") === 1000);
 * ```
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return value < 1e11 ? Math.round(value * 1000) : value;
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
 * every other key becomes a field. Missing time is `now`; missing level is INFO.
 *
 * @example A JSON line's object
 * ```ts
 * import { recordFromObject } from "./record_from_object.ts";
 * const record = recordFromObject({ level: "error", msg: "boom", user: "ada" }, 0);
 * console.assert(record.level === 40 && record.message === "boom" && record.fields.user === "ada");
 * ```
 */
export function recordFromObject(object: Record<string, unknown>, now: number): LogRecord {
  let time: number | undefined;
  let level: number | undefined;
  let logger: string | undefined;
  let message: string | undefined;
  for (const key of TIME_KEYS) {
    if (time === undefined && key in object) time = parseTime(object[key]);
  }
  for (const key of LEVEL_KEYS) {
    if (level === undefined && key in object) level = parseLevel(object[key]);
  }
  for (const key of LOGGER_KEYS) {
    if (logger === undefined && typeof object[key] === "string") logger = object[key] as string;
  }
  for (const key of MESSAGE_KEYS) {
    if (message === undefined && key in object) message = stringOf(object[key]);
  }
  const fields: Record<string, unknown> = {};
  const nested = object.fields;
  if (typeof nested === "object" && nested !== null && !Array.isArray(nested)) {
    Object.assign(fields, nested);
  }
  for (const key in object) if (!CONSUMED.has(key)) fields[key] = object[key];
  const record: LogRecord = {
    time: time ?? now,
    level: level ?? 20,
    logger: logger ?? "",
    message: message ?? "",
    fields,
  };
  const error = errorOf(object.error);
  if (error) record.error = error;
  return record;
}

/**
 * Parses one JSON line into a record; throws {@linkcode ParseError} (`invalid_json`,
 * `not_an_object`) when it is not a JSON object.
 *
 * @example Parse a line
 * ```ts
 * import { parseJsonLine } from "./record_from_object.ts";
 * console.assert(parseJsonLine('{"msg":"hi"}', 0).message === "hi");
 * ```
 */
export function parseJsonLine(line: string, now: number): LogRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ParseError(`Invalid JSON: ${(error as Error).message}`, "invalid_json");
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

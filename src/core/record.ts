/**
 * The one record shape that flows through every source, processor, formatter and sink.
 *
 * @module
 */

/** An error as carried by a record: plain data, safe to format and to send over the wire. */
export interface SerializedError {
  /** The error's class name, such as `TypeError`. */
  name: string;
  /** The error's message. */
  message: string;
  /** The stack trace, when the runtime gave one. */
  stack?: string;
  /** The `cause` chain, serialized the same way. */
  cause?: SerializedError | string;
}

/** Where a log call was made, on records of loggers with `caller: true`. */
export interface CallSite {
  /** The source file's path (or URL when it is not a local file). */
  file: string;
  /** The line, from 1. */
  line: number;
  /** The column, from 1. */
  column: number;
  /** The calling function's name; `<module>` at a module's top level, as in Python. */
  function: string;
  /** The file's name without its extension (Python's `module`). */
  module: string;
}

/**
 * A log record. Created once per log call or ingested line and never mutated after it
 * leaves a processor: processors that change a record return a new object.
 *
 * JSON output names: `time` (ISO 8601), `level` (name), `logger`, `message`, then
 * `trace_id`, `span_id`, `parent_span_id` when the record has them, then the fields merged at
 * the top level, then `error`.
 */
export interface LogRecord {
  /** Milliseconds since the epoch. */
  time: number;
  /** Severity number (see `Level`): TRACE 5 … CRITICAL 50. */
  level: number;
  /** The dotted logger name, `""` for the root. */
  logger: string;
  /** The rendered message. */
  message: string;
  /** Structured data: bound fields, context fields and call-site fields, merged. */
  fields: Record<string, unknown>;
  /** The error that came with the record, if any. */
  error?: SerializedError;
  /** Where the call was made, when its logger asks for call sites. */
  caller?: CallSite;
  /** W3C trace id (32 lower-case hex) of the span the record was logged in, if any. */
  trace_id?: string;
  /** W3C span id (16 lower-case hex) of that span; set together with `trace_id`. */
  span_id?: string;
  /** The span id of that span's parent, when it has one. */
  parent_span_id?: string;
  /** W3C trace flags of that span (1 = sampled); set together with `trace_id`. */
  trace_flags?: number;
}

/** Field names that {@linkcode createRecord} and formatters reserve for the record itself. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  "time",
  "level",
  "logger",
  "message",
  "error",
]);

/**
 * Builds a record with the stable property order every built-in relies on
 * (a single hidden class keeps formatters monomorphic).
 *
 * @example Build a record
 * ```ts
 * import { createRecord } from "./record.ts";
 * import assert from "node:assert/strict";
 * const record = createRecord({ level: 20, message: "hello", fields: { user: "ada" } });
 * assert.ok(record.logger === "" && record.fields.user === "ada");
 * ```
 */
export function createRecord(init: Partial<LogRecord> & { message: string }): LogRecord {
  const record: LogRecord = {
    time: init.time ?? Date.now(),
    level: init.level ?? 20,
    logger: init.logger ?? "",
    message: init.message,
    fields: init.fields ?? {},
  };
  if (init.error !== undefined) record.error = init.error;
  if (init.caller !== undefined) record.caller = init.caller;
  if (init.trace_id !== undefined) {
    record.trace_id = init.trace_id;
    if (init.span_id !== undefined) record.span_id = init.span_id;
    if (init.parent_span_id !== undefined) record.parent_span_id = init.parent_span_id;
    if (init.trace_flags !== undefined) record.trace_flags = init.trace_flags;
  }
  return record;
}

/**
 * Turns any thrown value into a {@linkcode SerializedError}, following `cause` up to
 * eight levels deep (a cycle or a deeper chain ends in a string).
 *
 * @example Serialize an error with a cause
 * ```ts
 * import { serializeError } from "./record.ts";
 * import assert from "node:assert/strict";
 * const error = serializeError(new Error("outer", { cause: new TypeError("inner") }));
 * assert.ok(typeof error.cause === "object" && error.cause.name === "TypeError");
 * ```
 */
export function serializeError(value: unknown, depth = 0): SerializedError {
  if (value instanceof Error) {
    const out: SerializedError = { name: value.name, message: value.message };
    if (value.stack !== undefined) out.stack = value.stack;
    if (value.cause !== undefined) {
      out.cause = depth >= 8 ? String(value.cause) : serializeError(value.cause, depth + 1);
    }
    return out;
  }
  return { name: "NonError", message: typeof value === "string" ? value : safeString(value) };
}

function safeString(value: unknown): string {
  try {
    return typeof value === "object" ? JSON.stringify(value) ?? String(value) : String(value);
  } catch {
    return String(value);
  }
}

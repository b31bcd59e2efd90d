/**
 * Maps the attribute dict of a Python `logging.LogRecord` (as `HTTPHandler`, `SocketHandler`
 * and `DatagramHandler` send it) to a record.
 *
 * @module
 */

import { parseLevel } from "../core/levels.ts";
import type { LogRecord, SerializedError } from "../core/record.ts";
import { percentFormat, pyStr } from "./percent_format.ts";
import { parsePythonLiteral } from "./python_literal.ts";
import { parseTime } from "./record_from_object.ts";

/** LogRecord attributes that become the record itself and are not kept as fields. */
const CONSUMED = new Set([
  "name",
  "msg",
  "args",
  "message",
  "levelname",
  "levelno",
  "created",
  "msecs",
  "relativeCreated",
  "asctime",
  "exc_info",
  "exc_text",
]);

/** LogRecord attributes about where the call was made: kept under `fields.python`. */
const ORIGIN = [
  "module",
  "funcName",
  "lineno",
  "pathname",
  "filename",
  "process",
  "processName",
  "thread",
  "threadName",
  "taskName",
  "stack_info",
] as const;
const ORIGIN_SET: ReadonlySet<string> = new Set(ORIGIN);
const NUMERIC = new Set(["lineno", "process", "thread"]);

/**
 * Maps a Python LogRecord's `__dict__` to a record.
 *
 * - `logger` ← `name`; `level` ← `levelno` (Python's numbers are Sluice's), else `levelname`;
 *   `time` ← `created` (epoch seconds).
 *   A `created` that is no usable time (`1e300`) is kept in `python.created`; the time is `now`.
 * - `message` ← `message` when the sender had already formatted it; otherwise `msg % args`
 *   with Python's rules. `HTTPHandler` sends `args` as its `repr()` text, which is read
 *   with a safe literal parser (plain data only, nothing evaluated); when it cannot be read
 *   or the format fails, the message is `msg` and the raw `args` is kept in `python.args`.
 * - `error` ← `exc_text` (a formatted traceback, present when a formatter ran): name and
 *   message from its last line, the whole text as `stack`; otherwise the exception class and
 *   arguments read from `exc_info`'s repr (HTTPHandler does not send the traceback itself).
 * - Where the call was made (`module`, `funcName`, `lineno`, `pathname`, `filename`,
 *   `process`, `processName`, `thread`, `threadName`, `taskName`, `stack_info`) goes to
 *   `fields.python`, leaving out values that are `None`.
 * - Every other attribute (the `extra={...}` of the logging call) becomes a field with
 *   the value as sent: over HTTP that is Python's `str()` of it, so `extra={"n": 1}` arrives
 *   as `"1"` — no type is guessed.
 * - `msecs`, `relativeCreated`, `asctime` and `exc_info` are dropped: the others carry the
 *   same information.
 *
 * Values that are the text `"None"` (as HTTPHandler writes `None`) count as absent for the
 * standard attributes.
 *
 * @example A record as HTTPHandler posts it
 * ```ts
 * import { recordFromPythonDict } from "./python_log_record.ts";
 * import assert from "node:assert/strict";
 * const record = recordFromPythonDict({
 *   name: "payment.db", levelno: "40", levelname: "ERROR", msg: "order %s failed",
 *   args: "('A-17',)", created: "1700000000.25", lineno: "12", order: "A-17",
 * }, 0);
 * assert.ok(record.message === "order A-17 failed" && record.level === 40);
 * assert.ok(record.time === 1_700_000_000_250 && record.fields.order === "A-17");
 * ```
 */
export function recordFromPythonDict(dict: Record<string, unknown>, now: number): LogRecord {
  const fields: Record<string, unknown> = {};
  const python: Record<string, unknown> = {};
  for (const key in dict) {
    if (CONSUMED.has(key) || ORIGIN_SET.has(key)) continue;
    fields[key] = dict[key];
  }
  for (const key of ORIGIN) {
    const value = present(dict[key]);
    if (value === undefined) continue;
    python[key] = NUMERIC.has(key) && typeof value === "string" && /^\d+$/.test(value)
      ? Number(value)
      : value;
  }
  const message = messageOf(dict, python);

  const levelno = present(dict.levelno);
  const level = parseLevel(levelno) ?? parseLevel(present(dict.levelname)) ?? 20;
  const created = present(dict.created);
  const time = created === undefined ? undefined : parseTime(created);
  // A created no Date can hold (or no number): the time of arrival, the raw value kept.
  if (created !== undefined && time === undefined) python.created = created;
  if (Object.keys(python).length > 0) fields.python = python;
  const record: LogRecord = {
    time: time === undefined ? now : Math.round(time),
    level,
    logger: textOf(present(dict.name)) ?? "",
    message,
    fields,
  };
  const error = errorOf(present(dict.exc_text)) ?? errorOfInfo(present(dict.exc_info));
  if (error) record.error = error;
  return record;
}

function messageOf(dict: Record<string, unknown>, python: Record<string, unknown>): string {
  // The text "None" is a message like any other here: logger.info("None") must survive.
  const message = dict.message;
  if (message !== undefined && message !== null) return textOf(message) ?? "";
  const msg = textOf(dict.msg ?? undefined) ?? "";
  const raw = dict.args;
  let args: unknown = raw;
  if (typeof raw === "string") {
    if (raw === "None" || raw === "()" || raw === "{}" || raw === "") return msg;
    args = parsePythonLiteral(raw);
    if (args === undefined) {
      python.args = raw;
      return msg;
    }
  }
  if (args === null || args === undefined) return msg;
  // LogRecord.getMessage(): `if self.args: msg = msg % self.args`.
  if (
    Array.isArray(args)
      ? args.length === 0
      : typeof args === "object" && Object.keys(args).length === 0
  ) {
    return msg;
  }
  const formatted = percentFormat(msg, args);
  if (formatted === undefined) {
    python.args = typeof raw === "string" ? raw : args;
    return msg;
  }
  return formatted;
}

/** `None` (or the text HTTPHandler writes for it) is absent. */
function present(value: unknown): unknown {
  return value === null || value === undefined || value === "None" ? undefined : value;
}

function textOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : String(value);
}

const EXC_INFO =
  /^\(<class '([^']+)'>, ([\s\S]*), (?:<traceback object at 0x[0-9a-fA-F]+>|None)\)$/;

/**
 * The exception of an unformatted record: HTTPHandler sends `exc_info` as the repr of
 * `(<class 'ValueError'>, ValueError('bad'), <traceback object at 0x…>)`; the traceback
 * itself is not sent.
 */
function errorOfInfo(value: unknown): SerializedError | undefined {
  if (Array.isArray(value) || typeof value !== "string") return undefined;
  const m = EXC_INFO.exec(value);
  if (!m) return undefined;
  const name = m[1]!.replace(/^builtins\./, "");
  const instance = m[2]!;
  const open = instance.indexOf("(");
  let message = instance;
  if (open > 0 && instance.endsWith(")")) {
    const args = parsePythonLiteral(instance.slice(open));
    if (Array.isArray(args)) {
      message = args.length === 1 ? pyStr(args[0]) : args.length === 0 ? "" : pyStr(args);
    }
  }
  return { name, message };
}

/** The exception of a formatted traceback: its last line is `Name: message`. */
function errorOf(value: unknown): SerializedError | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const lines = value.trimEnd().split("\n");
  const last = lines[lines.length - 1]!.trim();
  const m = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(last);
  return m
    ? { name: m[1]!, message: m[2] ?? "", stack: value }
    : { name: "Exception", message: last, stack: value };
}

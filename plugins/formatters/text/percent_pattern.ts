/**
 * Python's `%`-style `logging.Formatter` patterns (`%(asctime)s - %(levelname)-8s - %(message)s`),
 * compiled once, printing what Python prints for the same record.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { formatConversion, pyStr } from "../../../src/parse/percent_format.ts";
import { PyFloat, PyTuple } from "../../../src/parse/python_literal.ts";
import { closest } from "../../../src/schema/closest.ts";
import { compileStrftime, unknownDirective } from "./strftime.ts";
import { getOwn } from "../../../src/core/get_own.ts";

type Part = (record: LogRecord) => string;
type Value = (record: LogRecord) => unknown;
/** The W3C trace ids a record carries where known. */
type Traced = { trace_id?: string; span_id?: string; parent_span_id?: string };

/** Python's `PercentStyle` placeholder, and a lone `%` (which Python rejects). */
const SPEC = /%\((\w+)\)([#0+ -]*)(\d+)?(?:\.(\d+))?([diouxXeEfFgGcrsa])|%%|%/g;

/** Where `performance.timeOrigin` is the start (Python: when `logging` was imported). */
const START = performance.timeOrigin;
const EMPTY_ARGS = new PyTuple();

/** A float as Python's `repr()` writes it: `123.0`, `1700000000.123`. */
function pyFloat(n: number): PyFloat {
  return new PyFloat(n, Number.isInteger(n) && Math.abs(n) < 1e16 ? n + ".0" : String(n));
}

/** Python's level names; a number between them is `Level 25`, as Python prints it. */
export function pythonLevelName(level: number): string {
  switch (level) {
    case 0:
      return "NOTSET";
    case 5:
      return "TRACE";
    case 10:
      return "DEBUG";
    case 20:
      return "INFO";
    case 30:
      return "WARNING";
    case 40:
      return "ERROR";
    case 50:
      return "CRITICAL";
  }
  return "Level " + level;
}

/** What Python sent about the call site (`fields.python`), for ingested records. */
function python(record: LogRecord, key: string): unknown {
  const origin = record.fields.python;
  if (typeof origin !== "object" || origin === null) return undefined;
  return getOwn(origin as Record<string, unknown>, key);
}

const threadName = typeof (globalThis as { name?: unknown }).name === "string" &&
    "WorkerGlobalScope" in globalThis
  ? String((globalThis as { name?: unknown }).name)
  : "MainThread";

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The record attributes of Python's `LogRecord` (and the trace ids), by placeholder name. */
function attributes(asctime: (time: number) => string): Record<string, Value> {
  const site = (key: "file" | "function" | "module" | "line", py: string, unknown: unknown) =>
  (
    r: LogRecord,
  ) => r.caller?.[key] ?? python(r, py) ?? unknown;
  return {
    name: (r) => r.logger || "root",
    levelname: (r) => pythonLevelName(r.level),
    levelno: (r) => r.level,
    message: (r) => r.message,
    msg: (r) => r.message,
    args: () => EMPTY_ARGS,
    asctime: (r) => asctime(r.time),
    created: (r) => pyFloat(r.time / 1000),
    msecs: (r) => pyFloat(((r.time % 1000) + 1000) % 1000 | 0),
    relativeCreated: (r) => pyFloat(r.time - START),
    process: (r) => python(r, "process") ?? Deno.pid,
    processName: (r) => python(r, "processName") ?? "MainProcess",
    thread: (r) => python(r, "thread") ?? null,
    threadName: (r) => python(r, "threadName") ?? threadName,
    taskName: (r) => python(r, "taskName") ?? null,
    funcName: site("function", "funcName", "(unknown function)"),
    lineno: site("line", "lineno", 0),
    module: site("module", "module", "(unknown file)"),
    pathname: site("file", "pathname", "(unknown file)"),
    filename: (r) =>
      r.caller?.file !== undefined
        ? basename(r.caller.file)
        : python(r, "filename") ?? "(unknown file)",
    stack_info: () => null,
    exc_info: (r) => (r.error === undefined ? null : `(${r.error.name}, ${r.error.message})`),
    exc_text: (r) => (r.error === undefined ? null : r.error.stack ?? r.error.message),
    trace_id: (r) => (r as Traced).trace_id ?? r.fields.trace_id,
    span_id: (r) => (r as Traced).span_id ?? r.fields.span_id,
    parent_span_id: (r) => (r as Traced).parent_span_id ?? r.fields.parent_span_id,
  };
}

/** The names a `%(name)s` placeholder resolves as record attributes rather than fields. */
export const PYTHON_ATTRIBUTES: readonly string[] = Object.keys(attributes(() => ""));

/** Options of {@linkcode compilePercentPattern}. */
export interface PercentPatternOptions {
  /** Python's `datefmt` (strftime); Python's default `2024-11-17 10:15:30,123` when absent. */
  datefmt?: string | undefined;
  /** Render `asctime` in UTC (Python's `converter = time.gmtime`) instead of local time. */
  utc: boolean;
  /** Python's `Formatter(defaults=...)`: values for placeholders a record does not carry. */
  defaults: Readonly<Record<string, unknown>>;
}

/** Whether a pattern is `%`-style (holds a `%(name)` placeholder). */
export function isPercentPattern(pattern: string): boolean {
  return /%\(\w+\)/.test(pattern);
}

/**
 * The problems of a `%`-style pattern, as `sluice check` reports them: a malformed placeholder
 * (Python raises `ValueError` or prints a logging error for those), a name that is a near miss
 * of a record attribute (`levelnam`), and an unknown `datefmt` directive. Any other name is a
 * field (the `extra=` of Python's call); naming it in `defaults` gives it a value when absent.
 */
export function checkPercentPattern(
  pattern: string,
  defaults: Readonly<Record<string, unknown>>,
  datefmt: string | undefined,
): { key: "pattern" | "datefmt"; message: string; hint?: string }[] {
  const problems: { key: "pattern" | "datefmt"; message: string; hint?: string }[] = [];
  for (const m of pattern.matchAll(SPEC)) {
    if (m[0] === "%%") continue;
    if (m[0] === "%") {
      const rest = pattern.slice(m.index, m.index + 12);
      problems.push({
        key: "pattern",
        message: `Invalid placeholder at ${
          JSON.stringify(rest)
        }: expected %(name)s, %(name)d … or %%`,
        hint: "write a literal % as %%",
      });
      continue;
    }
    const name = m[1]!;
    if (PYTHON_ATTRIBUTES.includes(name) || Object.hasOwn(defaults, name)) continue;
    const near = closest(name, PYTHON_ATTRIBUTES);
    if (near !== undefined) {
      problems.push({
        key: "pattern",
        message: `Unknown placeholder "%(${name})"`,
        hint: `did you mean "%(${near})"? (a field of that name needs an entry in defaults)`,
      });
    }
  }
  if (datefmt !== undefined) {
    const bad = unknownDirective(datefmt);
    if (bad !== undefined) {
      problems.push({ key: "datefmt", message: `Unknown strftime directive "${bad}"` });
    }
  }
  return problems;
}

function asctimeOf(options: PercentPatternOptions): (time: number) => string {
  if (options.datefmt !== undefined) return compileStrftime(options.datefmt, options.utc);
  // Python's default_time_format plus default_msec_format "%s,%03d".
  const seconds = compileStrftime("%Y-%m-%d %H:%M:%S", options.utc);
  return (time) => {
    const ms = ((time % 1000) + 1000) % 1000 | 0;
    return seconds(time) + (ms < 10 ? ",00" : ms < 100 ? ",0" : ",") + ms;
  };
}

/**
 * Compiles a `%`-style pattern as Python's `logging.Formatter` reads it: `%(name)s` with
 * flags, width and precision (`%(levelname)-8s`, `%(message).80s`, `%(msecs)03d`), `%%` a
 * percent sign, braces literal. Names are the `LogRecord` attributes (`asctime`, `created`,
 * `msecs`, `relativeCreated`, `levelname` as WARNING, `process`, `funcName`, `lineno` … the
 * call site from `caller:` or from what a Python handler sent), else the record's fields,
 * else `defaults`, else empty.
 *
 * @example The seed's first pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { compilePercentPattern } from "./percent_pattern.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * const format = compilePercentPattern(
 *   "%(asctime)s - %(name)s - %(levelname)-8s - [%(request_id)s] %(message).5s",
 *   { utc: true, defaults: { request_id: "NO_REQUEST" } },
 * );
 * const record = createRecord({ time: 1_731_838_530_123, level: 30, logger: "app", message: "hello world" });
 * assert.equal(format(record), "2024-11-17 10:15:30,123 - app - WARNING  - [NO_REQUEST] hello");
 * ```
 */
export function compilePercentPattern(
  pattern: string,
  options: PercentPatternOptions,
): (record: LogRecord) => string {
  const known = attributes(asctimeOf(options));
  const parts: Part[] = [];
  let last = 0;
  for (const m of pattern.matchAll(SPEC)) {
    if (m.index > last) parts.push(literal(pattern.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[0] === "%%" || m[0] === "%") {
      parts.push(literal("%"));
      continue;
    }
    const [, name, flags = "", width, precision, type] = m as unknown as [
      string,
      string,
      string | undefined,
      string | undefined,
      string | undefined,
      string,
    ];
    const attribute = getOwn(known, name!);
    const fallback = Object.hasOwn(options.defaults, name!) ? options.defaults[name!] : "";
    const value: Value = attribute !== undefined
      ? (r) => {
        const v = attribute(r);
        return v === undefined ? fallback : v;
      }
      : (r) => {
        const field = getOwn(r.fields, name!);
        return field === undefined ? fallback : field;
      };
    parts.push(conversion(value, type, flags, width, precision));
  }
  if (last < pattern.length) parts.push(literal(pattern.slice(last)));
  const n = parts.length;
  return (record) => {
    let out = "";
    for (let i = 0; i < n; i++) out += parts[i]!(record);
    return out;
  };
}

function literal(text: string): Part {
  return () => text;
}

function conversion(
  value: Value,
  type: string,
  flags: string,
  width: string | undefined,
  precision: string | undefined,
): Part {
  const w = width === undefined ? 0 : Number(width);
  const p = precision === undefined ? undefined : Number(precision);
  if (type === "s" && w === 0 && p === undefined) {
    return (r) => {
      const v = value(r);
      return typeof v === "string" ? v : pyStr(v);
    };
  }
  // Where Python would raise (`%d` given text), the value is printed as `%s` would.
  return (r) => {
    const v = value(r);
    return formatConversion(type, v, flags, w, p) ?? formatConversion("s", v, flags, w, p) ?? "";
  };
}

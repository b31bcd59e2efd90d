/**
 * The `text` formatter: a pattern with placeholders, compiled once.
 *
 * @module
 */

import { levelName } from "../../../src/core/levels.ts";
import type { LogRecord, SerializedError } from "../../../src/core/record.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { s } from "../../../src/schema/schema.ts";
import { formatLogfmtPairs } from "../../../src/format/logfmt_pairs.ts";
import {
  checkPercentPattern,
  compilePercentPattern,
  isPercentPattern,
  pythonLevelName,
} from "./percent_pattern.ts";
import { compileStrftime, unknownDirective } from "./strftime.ts";
import { compileTimeFormat, TIME_FORMATS } from "./time_format.ts";
import { getOwn } from "../../../src/core/get_own.ts";

type Part = (record: LogRecord) => string;

/** The default pattern: time, level, logger, message, then the fields not named in the pattern. */
export const DEFAULT_PATTERN = "{time} {level} {logger} - {message}{fields}";

/**
 * Compiles a pattern into a function. Placeholders: `{time}`, `{level}`, `{levelno}`,
 * `{logger}`, `{message}`, `{levelname}` (Python's names: WARNING), `{fields}` (the fields not named elsewhere, as ` key=value`),
 * and any field by name, with dots into nested values (`{user.id}`). `{level:<8}` pads to
 * the right, `{level:>8}` to the left. A pattern with a `%(name)s` placeholder is Python's
 * `%`-style instead and prints what Python's `logging.Formatter` prints (see
 * `compilePercentPattern`; `python` holds its `datefmt`, local-time choice and `defaults`).
 * An error is appended on the following lines (stack, then causes).
 *
 * @example Python's seed pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { compilePattern } from "./mod.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * const format = compilePattern("%(name)s - %(levelname)s - %(message)s", "iso", false);
 * assert.equal(format(createRecord({ logger: "app", level: 30, message: "hi" })), "app - WARNING - hi");
 * ```
 */
export function compilePattern(
  pattern: string,
  timeFormat: string,
  utc: boolean,
  python: { datefmt?: string | undefined; defaults?: Readonly<Record<string, unknown>> } = {},
): Part {
  if (isPercentPattern(pattern)) {
    const line = compilePercentPattern(pattern, {
      datefmt: python.datefmt,
      utc,
      defaults: python.defaults ?? {},
    });
    // Python's Formatter.format(): the traceback on the lines after the message.
    return (record) =>
      record.error === undefined ? line(record) : line(record) + "\n" + renderError(record.error);
  }
  const time = python.datefmt !== undefined
    ? compileStrftime(python.datefmt, utc)
    : compileTimeFormat(timeFormat, utc);
  const defaults = python.defaults ?? {};
  const parts: Part[] = [];
  const named = new Set<string>();
  const re = /\{([a-zA-Z_][\w.]*)(?::([<>])?(\d+))?\}|\{\{|\}\}/g;
  let last = 0;
  for (let m = re.exec(pattern); m; m = re.exec(pattern)) {
    if (m.index > last) parts.push(literal(pattern.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[0] === "{{" || m[0] === "}}") {
      parts.push(literal(m[0][0]!));
      continue;
    }
    const name = m[1]!;
    const align = m[2] ?? "<";
    const width = m[3] ? Number(m[3]) : undefined;
    if (name === "fields") {
      // `named` is complete by the time a record is formatted, so fields used elsewhere are skipped.
      parts.push((record) => {
        const rest = formatLogfmtPairs(record.fields, named);
        return rest ? " " + rest : "";
      });
      continue;
    }
    const part = placeholder(name, time, defaults);
    if (!["time", "level", "levelname", "levelno", "logger", "message", "created"].includes(name)) {
      named.add(name.split(".")[0]!);
    }
    parts.push(width === undefined ? part : pad(part, width, align === "<"));
  }
  if (last < pattern.length) parts.push(literal(pattern.slice(last)));
  const n = parts.length;
  return (record) => {
    let out = "";
    for (let i = 0; i < n; i++) out += parts[i]!(record);
    return record.error === undefined ? out : out + "\n" + renderError(record.error);
  };
}

function literal(text: string): Part {
  return () => text;
}

function pad(part: Part, width: number, left: boolean): Part {
  return (record) => {
    const text = part(record);
    return text.length >= width ? text : left ? text.padEnd(width) : text.padStart(width);
  };
}

function placeholder(
  name: string,
  time: (t: number) => string,
  defaults: Readonly<Record<string, unknown>>,
): Part {
  switch (name) {
    case "time":
      return (r) => time(r.time);
    case "level":
      return (r) => levelName(r.level);
    case "levelno":
      return (r) => String(r.level);
    case "levelname":
      // Python's own names, so `%(levelname)s` output matches what Python's tools parse.
      return (r) => pythonLevelName(r.level);
    case "created":
      return (r) => String(r.time / 1000);
    case "logger":
      return (r) => r.logger || "root";
    case "message":
      return (r) => r.message;
  }
  const path = name.split(".");
  const fallback = Object.hasOwn(defaults, name) ? String(defaults[name]) : "";
  const fromFields = (r: LogRecord): string => {
    let value: unknown = r.fields;
    for (const key of path) {
      if (typeof value !== "object" || value === null) return fallback;
      value = getOwn(value as Record<string, unknown>, key);
    }
    return value === undefined
      ? fallback
      : typeof value === "string"
      ? value
      : JSON.stringify(value) ?? String(value);
  };
  // The record's trace ids, else a field of that name (an ingested record may carry one).
  switch (name) {
    case "trace_id":
      return (r) => r.trace_id ?? fromFields(r);
    case "span_id":
      return (r) => r.span_id ?? fromFields(r);
    case "parent_span_id":
      return (r) => r.parent_span_id ?? fromFields(r);
  }
  return fromFields;
}

function renderError(error: SerializedError): string {
  let out = error.stack ?? `${error.name}: ${error.message}`;
  let cause = error.cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    if (typeof cause === "string") {
      out += `\nCaused by: ${cause}`;
      break;
    }
    out += `\nCaused by: ${cause.stack ?? `${cause.name}: ${cause.message}`}`;
    cause = cause.cause;
  }
  return out;
}

/**
 * Human-readable lines from a pattern compiled once.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   console:
 *     type: console
 *     format: { type: text, pattern: "{time} - {logger} - {level} - {message}", time_format: asctime }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "formatter",
  type: "text",
  description:
    "A line from a pattern with placeholders ({time}, {level}, {logger}, {message}, {fields}, any field).",
  options: s.object({
    pattern: s.string().default(DEFAULT_PATTERN).describe(
      "Placeholders {time} {level} {levelno} {logger} {message} {fields} {any.field}; Python's %(name)s too.",
    ),
    time_format: s.enum(TIME_FORMATS).default("iso").describe(
      "iso (2026-11-24T06:01:35.123Z), asctime (Python's 2026-11-24 06:01:35,123), time (06:01:35.123), epoch_ms, epoch.",
    ),
    utc: s.boolean().optional().describe(
      "Render times in UTC (true) or local time (false); default UTC, and local time for %-style patterns as in Python.",
    ),
    datefmt: s.string({ minLength: 1 }).optional().describe(
      "Python's datefmt: a strftime format for %(asctime)s (and {time}), such as %Y-%m-%d %H:%M:%S.",
    ),
    defaults: s.map(s.any()).default({}).describe(
      "Values for placeholders a record does not carry, as Python's Formatter(defaults=...): {request_id: NO_REQUEST}.",
    ),
  }, {
    refine(value, path, ctx) {
      if (value.pattern === undefined) return;
      const problems = isPercentPattern(value.pattern)
        ? checkPercentPattern(value.pattern, value.defaults ?? {}, value.datefmt)
        : [];
      if (!isPercentPattern(value.pattern) && value.datefmt !== undefined) {
        const bad = unknownDirective(value.datefmt);
        if (bad !== undefined) {
          problems.push({ key: "datefmt", message: `Unknown strftime directive "${bad}"` });
        }
      }
      for (const problem of problems) {
        ctx.issues.push({
          path: [...path, problem.key],
          message: problem.message,
          ...(problem.hint === undefined ? {} : { hint: problem.hint }),
        });
      }
    },
  }),
  create: (options) =>
    compilePattern(
      options.pattern,
      options.time_format,
      options.utc ?? !isPercentPattern(options.pattern),
      { datefmt: options.datefmt, defaults: options.defaults },
    ),
});

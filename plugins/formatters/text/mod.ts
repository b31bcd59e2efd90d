/**
 * The `text` formatter: a pattern with placeholders, compiled once.
 *
 * @module
 */

import { levelName } from "../../../src/core/levels.ts";
import type { LogRecord, SerializedError } from "../../../src/core/record.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { s } from "../../../src/schema/schema.ts";
import { formatLogfmtPairs } from "../logfmt.ts";
import { compileTimeFormat, TIME_FORMATS } from "./time_format.ts";

type Part = (record: LogRecord) => string;

const PYTHON_NAMES: Record<string, string> = {
  asctime: "time",
  name: "logger",
  levelname: "levelname",
  message: "message",
  msg: "message",
  levelno: "levelno",
  created: "created",
};

/** The default pattern: time, level, logger, message, then the fields not named in the pattern. */
export const DEFAULT_PATTERN = "{time} {level} {logger} - {message}{fields}";

/**
 * Compiles a pattern into a function. Placeholders: `{time}`, `{level}`, `{levelno}`,
 * `{logger}`, `{message}`, `{levelname}` (Python's names: WARNING), `{fields}` (the fields not named elsewhere, as ` key=value`),
 * and any field by name, with dots into nested values (`{user.id}`). `{level:<8}` pads to
 * the right, `{level:>8}` to the left. Python's `%(asctime)s - %(name)s - %(levelname)-8s`
 * syntax works too. An error is appended on the following lines (stack, then causes).
 *
 * @example Python's seed pattern
 * ```ts
 * import { compilePattern } from "./mod.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * const format = compilePattern("%(name)s - %(levelname)s - %(message)s", "iso", false);
 * console.assert(format(createRecord({ logger: "app", level: 30, message: "hi" })) === "app - WARNING - hi");
 * ```
 */
export function compilePattern(pattern: string, timeFormat: string, utc: boolean): Part {
  const time = compileTimeFormat(timeFormat, utc);
  const parts: Part[] = [];
  const named = new Set<string>();
  const re =
    /\{([a-zA-Z_][\w.]*)(?::([<>])?(\d+))?\}|%\(([a-zA-Z_]\w*)\)(-)?(\d+)?[sd]|\{\{|\}\}|%%/g;
  let last = 0;
  for (let m = re.exec(pattern); m; m = re.exec(pattern)) {
    if (m.index > last) parts.push(literal(pattern.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[0] === "{{" || m[0] === "}}" || m[0] === "%%") {
      parts.push(literal(m[0][0]!));
      continue;
    }
    let name: string;
    let align: string | undefined;
    let width: number | undefined;
    if (m[1] !== undefined) {
      name = m[1];
      align = m[2] ?? "<";
      width = m[3] ? Number(m[3]) : undefined;
    } else {
      name = PYTHON_NAMES[m[4]!] ?? m[4]!;
      align = m[5] ? "<" : ">";
      width = m[6] ? Number(m[6]) : undefined;
    }
    if (name === "fields") {
      // `named` is complete by the time a record is formatted, so fields used elsewhere are skipped.
      parts.push((record) => {
        const rest = formatLogfmtPairs(record.fields, named);
        return rest ? " " + rest : "";
      });
      continue;
    }
    const part = placeholder(name, time);
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

function placeholder(name: string, time: (t: number) => string): Part {
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
  return (r) => {
    let value: unknown = r.fields;
    for (const key of path) {
      if (typeof value !== "object" || value === null) return "";
      value = (value as Record<string, unknown>)[key];
    }
    return value === undefined
      ? ""
      : typeof value === "string"
      ? value
      : JSON.stringify(value) ?? String(value);
  };
}

function pythonLevelName(level: number): string {
  const name = levelName(level);
  return name === "WARN" ? "WARNING" : name === "TRACE" ? "TRACE" : name;
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
 * const yaml = `
 * sinks:
 *   console:
 *     type: console
 *     format: { type: text, pattern: "{time} - {logger} - {level} - {message}", time_format: asctime }
 * `;
 * console.assert(yaml.includes("type: text"));
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
    utc: s.boolean().default(true).describe("Render times in UTC (true) or local time (false)."),
  }),
  create: (options) => compilePattern(options.pattern, options.time_format, options.utc),
});

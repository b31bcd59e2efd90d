/**
 * Parses lines written by Python's `logging` with a `%(...)s` format string, by default the
 * seed's `"%(asctime)s - %(name)s - %(levelname)s - %(message)s"`.
 *
 * @module
 */

import type { LogRecord, SerializedError } from "../../../src/core/record.ts";
import { parseLevel } from "../../../src/core/levels.ts";
import { ParseError } from "../../../src/parse/parse_error.ts";
import type { LineParser } from "./regex_line.ts";
import { getOwn } from "../../../src/core/get_own.ts";

/** Python's `logging.basicConfig` format used by the seed deck. */
export const PYTHON_DEFAULT_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s";

const ATTRIBUTES: Record<string, string> = {
  asctime: String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:,\d{3})?`,
  created: String.raw`\d+(?:\.\d+)?`,
  msecs: String.raw`\d+(?:\.\d+)?`,
  relativeCreated: String.raw`\d+(?:\.\d+)?`,
  levelname: String.raw`[A-Za-z]+|Level \d+`,
  levelno: String.raw`\d+`,
  lineno: String.raw`\d+`,
  process: String.raw`\d+`,
  thread: String.raw`\d+`,
  message: ".*",
};
const NUMERIC = new Set(["lineno", "process", "thread", "levelno", "msecs", "relativeCreated"]);
const TRACEBACK = "\nTraceback (most recent call last):\n";

/**
 * Compiles a Python `%`-style format string into a line parser. `asctime` (local time,
 * `YYYY-MM-DD HH:MM:SS,mmm`) or `created` gives the time, `levelname`/`levelno` the level,
 * `name` the logger, `message` the message; other attributes (`module`, `lineno`,
 * `funcName`, `process` …) become fields. A traceback that follows the message (joined by
 * `multiline`) becomes the record's error. A line that does not fit throws
 * {@linkcode ParseError} (`no_match`).
 *
 * @example The seed's default format
 * ```ts
 * import { compilePythonLine } from "./python_line.ts";
 * import assert from "node:assert/strict";
 * const parse = compilePythonLine();
 * const record = parse("2026-11-24 10:00:00,123 - payment - WARNING - Card declined", 0);
 * assert.ok(record.level === 30 && record.logger === "payment" && record.message === "Card declined");
 * assert.ok(record.time === new Date(2026, 10, 24, 10, 0, 0, 123).getTime());
 * ```
 */
export function compilePythonLine(format: string = PYTHON_DEFAULT_FORMAT): LineParser {
  const names: string[] = [];
  let source = "^";
  let last = 0;
  const re = /%\((\w+)\)([-#0 +]*)(\d*)(?:\.\d+)?[sdfrixXeEgG]|%%/g;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    source += escapeRegex(format.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[0] === "%%") {
      source += "%";
      continue;
    }
    const name = m[1]!;
    const padded = m[3] !== "";
    const body = getOwn(ATTRIBUTES, name) ?? ".*?";
    const group = names.includes(name) ? `(?:${body})` : `(?<${name}>${body})`;
    if (!names.includes(name)) names.push(name);
    source += padded ? ` *${group} *` : group;
  }
  source += escapeRegex(format.slice(last)) + "$";
  if (names.length === 0) {
    throw new SyntaxError(`Format ${JSON.stringify(format)} has no %(name)s placeholder`);
  }
  const regex = new RegExp(source, "s");
  return (line, now) => {
    const groups = regex.exec(line)?.groups;
    if (!groups) throw new ParseError("The line does not match the Python format", "no_match");
    let time: number | undefined;
    let level: number | undefined;
    let logger = "";
    let message = "";
    let error: SerializedError | undefined;
    const fields: Record<string, unknown> = {};
    for (const name of names) {
      const value = groups[name];
      if (value === undefined) continue;
      switch (name) {
        case "asctime":
          time = parseAsctime(value);
          break;
        case "created":
          time ??= Math.round(Number(value) * 1000);
          break;
        case "levelname":
          level = parseLevel(value) ??
            (/^Level (\d+)$/.exec(value) ? Number(value.slice(6)) : level);
          break;
        case "levelno":
          level ??= parseLevel(Number(value));
          break;
        case "name":
          logger = value;
          break;
        case "message": {
          const at = value.indexOf(TRACEBACK);
          if (at >= 0) {
            message = value.slice(0, at);
            error = tracebackError(value.slice(at + 1));
          } else message = value;
          break;
        }
        default:
          fields[name] = NUMERIC.has(name) ? Number(value) : value;
      }
    }
    const record: LogRecord = { time: time ?? now, level: level ?? 20, logger, message, fields };
    if (error) record.error = error;
    return record;
  };
}

function parseAsctime(text: string): number {
  const y = Number(text.slice(0, 4));
  const mo = Number(text.slice(5, 7));
  const d = Number(text.slice(8, 10));
  const h = Number(text.slice(11, 13));
  const mi = Number(text.slice(14, 16));
  const s = Number(text.slice(17, 19));
  const ms = text.length > 20 ? Number(text.slice(20, 23)) : 0;
  return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
}

/** `Traceback …\n  File …\nValueError: boom` → name ValueError, message boom, the text as stack. */
function tracebackError(text: string): SerializedError {
  const lines = text.trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const m = /^([A-Za-z_][\w.]*)(?:: (.*))?$/.exec(last);
  return {
    name: m ? m[1]!.slice(m[1]!.lastIndexOf(".") + 1) : "Error",
    message: m ? m[2] ?? "" : last,
    stack: text.trimEnd(),
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

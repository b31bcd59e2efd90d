/**
 * Parses lines with a regular expression whose named groups become the record.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { recordFromObject } from "../../../src/parse/record_from_object.ts";
import { ParseError } from "../../../src/parse/parse_error.ts";
import { messageOf } from "../../../src/core/message_of.ts";

/** A compiled line parser: a line and the current time in, a record out (or a ParseError). */
export type LineParser = (line: string, now: number) => LogRecord;

/**
 * Compiles `pattern` once. Named groups `time` (or `timestamp`, `ts`), `level` (or
 * `severity`), `logger` (or `name`) and `message` (or `msg`) fill the record; every other
 * named group that matched becomes a field. A line the pattern does not match throws
 * {@linkcode ParseError} (`no_match`). Throws a `SyntaxError` naming the pattern when it
 * is not a valid regular expression or has no named group.
 *
 * @example nginx-like access lines
 * ```ts
 * import { compileRegexLine } from "./regex_line.ts";
 * import assert from "node:assert/strict";
 * const parse = compileRegexLine(String.raw`^(?<ip>\S+) "(?<message>[^"]*)" (?<status>\d+)$`);
 * const record = parse('10.0.0.1 "GET /" 200', 0);
 * assert.ok(record.message === "GET /" && record.fields.status === "200");
 * ```
 */
export function compileRegexLine(pattern: string): LineParser {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, "s");
  } catch (error) {
    throw new SyntaxError(
      `Invalid pattern ${JSON.stringify(pattern)}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  if (!/\(\?<[a-zA-Z_$][\w$]*>/.test(pattern)) {
    throw new SyntaxError(
      `Pattern ${JSON.stringify(pattern)} has no named group such as (?<message>.*)`,
    );
  }
  return (line, now) => {
    const groups = regex.exec(line)?.groups;
    if (!groups) throw new ParseError("The line does not match the pattern", "no_match");
    const object: Record<string, unknown> = {};
    for (const key in groups) {
      const value = groups[key];
      if (value !== undefined) object[key] = value;
    }
    return recordFromObject(object, now);
  };
}

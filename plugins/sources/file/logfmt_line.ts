/**
 * Parses logfmt lines (`time=… level=info msg="hello world" user=ada`) into records.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { recordFromObject } from "../../../src/parse/record_from_object.ts";
import { ParseError } from "../../../src/parse/parse_error.ts";

/**
 * Splits a logfmt line into its pairs. Values are strings; a quoted value is unescaped as
 * a JSON string; a bare key counts as `"true"`. Throws {@linkcode ParseError}
 * (`invalid_logfmt`) for an unterminated quote or a line without any `key=value` pair.
 *
 * @example Pairs with a quoted value
 * ```ts
 * import { parseLogfmt } from "./logfmt_line.ts";
 * import assert from "node:assert/strict";
 * const pairs = parseLogfmt('level=info msg="hello \\"world\\"" ok');
 * assert.ok(pairs.msg === 'hello "world"' && pairs.ok === "true");
 * ```
 */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let pairs = 0;
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === " " || line[i] === "\t")) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && line[i] !== "=" && line[i] !== " " && line[i] !== "\t") i++;
    const key = line.slice(keyStart, i);
    if (i >= n || line[i] !== "=") {
      if (key) out[key] = "true";
      continue;
    }
    i++; // "="
    if (!key) throw new ParseError("Invalid logfmt: a value without a key", "invalid_logfmt");
    pairs++;
    if (line[i] === '"') {
      let j = i + 1;
      let escaped = false;
      while (j < n && line[j] !== '"') {
        if (line[j] === "\\") {
          escaped = true;
          j++;
        }
        j++;
      }
      if (j >= n) {
        throw new ParseError(
          `Invalid logfmt: unterminated quote after "${key}="`,
          "invalid_logfmt",
        );
      }
      const raw = line.slice(i, j + 1);
      try {
        out[key] = escaped ? JSON.parse(raw) : raw.slice(1, -1);
      } catch {
        out[key] = raw.slice(1, -1).replace(/\\(.)/g, "$1");
      }
      i = j + 1;
    } else {
      const start = i;
      while (i < n && line[i] !== " " && line[i] !== "\t") i++;
      out[key] = line.slice(start, i);
    }
  }
  if (pairs === 0) throw new ParseError("Invalid logfmt: no key=value pair", "invalid_logfmt");
  return out;
}

/**
 * Parses a logfmt line into a record: `time`/`ts`, `level`/`lvl`, `logger`, `msg`/`message`
 * are the record's own; `error.name`, `error.message` and `error.stack` (as the `logfmt`
 * formatter writes them) become its error; every other pair is a field.
 *
 * @example A line as the logfmt formatter writes it
 * ```ts
 * import { parseLogfmtLine } from "./logfmt_line.ts";
 * import assert from "node:assert/strict";
 * const record = parseLogfmtLine('time=2026-11-24T10:00:00.000Z level=warn logger=db msg="slow query" ms=130', 0);
 * assert.ok(record.level === 30 && record.logger === "db" && record.fields.ms === "130");
 * ```
 */
export function parseLogfmtLine(line: string, now: number): LogRecord {
  const pairs: Record<string, unknown> = parseLogfmt(line);
  if ("error.name" in pairs || "error.message" in pairs) {
    const error: Record<string, unknown> = {};
    for (const key of ["name", "message", "stack"]) {
      if (`error.${key}` in pairs) {
        error[key] = pairs[`error.${key}`];
        delete pairs[`error.${key}`];
      }
    }
    pairs.error = error;
  }
  return recordFromObject(pairs, now);
}

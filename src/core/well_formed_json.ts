/**
 * JSON text that every strict parser takes.
 *
 * @module
 */

// An escaped surrogate pair, or a lone escaped surrogate, after an even run of backslashes
// (an odd run means the `\u` is itself escaped text).
const SURROGATE_ESCAPE =
  /(?<!\\)((?:\\\\)*)(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2})/g;

/**
 * Replaces every lone UTF-16 surrogate escape in JSON text (`\ud800`, which `JSON.stringify`
 * writes for a string that is not well-formed) with U+FFFD, as `String.prototype.toWellFormed`
 * does: such text is valid JSON, but it decodes to a string no UTF-8 encoder can write, and
 * strict receivers (an OpenTelemetry collector, Elasticsearch, Go's and Rust's JSON) refuse
 * the whole request. Escaped pairs are kept. Text without `\ud` returns as is after one scan.
 *
 * @example A lone surrogate from JSON.stringify
 * ```ts
 * import assert from "node:assert/strict";
 * import { wellFormedJson } from "./well_formed_json.ts";
 * assert.equal(wellFormedJson(JSON.stringify({ m: "a\ud800b" })), '{"m":"a\ufffdb"}');
 * assert.equal(wellFormedJson(JSON.stringify({ m: "\\ud800" })), '{"m":"\\\\ud800"}');
 * assert.equal(wellFormedJson('"\\ud83d\\ude00"'), '"\\ud83d\\ude00"');
 * ```
 */
export function wellFormedJson(json: string): string {
  if (!json.includes("\\ud") && !json.includes("\\uD")) return json;
  return json.replace(
    SURROGATE_ESCAPE,
    (_match, backslashes: string, escape: string) =>
      escape.length === 12 ? backslashes + escape : backslashes + "\ufffd",
  );
}

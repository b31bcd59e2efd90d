/**
 * logfmt's `key=value` pairs: what the logfmt, text and syslog formatters write for fields.
 *
 * @module
 */

/**
 * Quotes a logfmt value when it holds spaces, quotes, `=` or control characters.
 *
 * @example A value with a space
 * ```ts
 * import { logfmtValue } from "./logfmt_pairs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(logfmtValue("a b"), '"a b"');
 * assert.equal(logfmtValue(42), "42");
 * ```
 */
export function logfmtValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "boolean") return String(value);
  else if (value === null || value === undefined) return value === null ? "null" : "";
  else if (typeof value === "object") {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  } else text = String(value);
  if (text === "") return '""';
  // deno-lint-ignore no-control-regex
  return /[\s"=\\\u0000-\u001f]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * Renders fields as space-separated `key=value` pairs, nested objects flattened with dots,
 * skipping top-level keys in `skip`.
 *
 * @example Pairs
 * ```ts
 * import { formatLogfmtPairs } from "./logfmt_pairs.ts";
 * import assert from "node:assert/strict";
 * assert.ok(formatLogfmtPairs({ a: 1, b: "x y", c: { d: true } }) === 'a=1 b="x y" c.d=true');
 * ```
 */
export function formatLogfmtPairs(
  fields: Record<string, unknown>,
  skip?: ReadonlySet<string>,
): string {
  let out = "";
  for (const key in fields) {
    if (skip?.has(key)) continue;
    out = appendPair(out, key, fields[key], 0);
  }
  return out;
}

const safeKeys = new Map<string, string>();

function appendPair(out: string, key: string, value: unknown, depth: number): string {
  if (
    typeof value === "object" && value !== null && !Array.isArray(value) && depth < 4 &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    for (const inner in value as Record<string, unknown>) {
      out = appendPair(
        out,
        key + "." + inner,
        (value as Record<string, unknown>)[inner],
        depth + 1,
      );
    }
    return out;
  }
  let safeKey = safeKeys.get(key);
  if (safeKey === undefined) {
    safeKey = /^[^\s="]+$/.test(key) ? key : key.replace(/[\s="]/g, "_");
    // Field names repeat from record to record; a bounded cache spares the regex.
    if (safeKeys.size < 1024) safeKeys.set(key, safeKey);
  }
  return (out ? out + " " : "") + safeKey + "=" + logfmtValue(value);
}

/**
 * Counting and joining the lines of a batch, for the rotating file sink's split of a batch
 * that crosses `max_bytes`.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The number of newlines in `text`.
 *
 * @example
 * ```ts
 * import { countLines } from "./lines.ts";
 * import assert from "node:assert/strict";
 * assert.equal(countLines("one\ntwo\n"), 2);
 * ```
 */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * The number of newline bytes in `bytes` before `end`.
 *
 * @example
 * ```ts
 * import { countNewlines } from "./lines.ts";
 * import assert from "node:assert/strict";
 * assert.equal(countNewlines(new TextEncoder().encode("a\nb\nc\n"), 4), 2);
 * ```
 */
export function countNewlines(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i >= 0 && i < end; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * Joins formatted lines (text or bytes; `undefined` for a record the formatter failed on,
 * which is left out) into one buffer, each followed by a newline.
 *
 * @example
 * ```ts
 * import { joinLines } from "./lines.ts";
 * import assert from "node:assert/strict";
 * const joined = joinLines(["a", undefined, new Uint8Array([98])]);
 * assert.equal(new TextDecoder().decode(joined), "a\nb\n");
 * ```
 */
export function joinLines(lines: readonly (string | Uint8Array | undefined)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const line of lines) {
    if (line === undefined) continue;
    const bytes = typeof line === "string" ? encoder.encode(line) : line;
    parts.push(bytes);
    size += bytes.length + 1;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
    out[offset++] = 10;
  }
  return out;
}

/**
 * Counting UTF-8 bytes without encoding.
 *
 * @module
 */

/**
 * The UTF-8 length of a string (what `TextEncoder` would produce, lone surrogates as U+FFFD).
 *
 * @example Count bytes
 * ```ts
 * import { utf8Length } from "./utf8_length.ts";
 * import assert from "node:assert/strict";
 * assert.ok(utf8Length("aé✓😀") === 1 + 2 + 3 + 4);
 * ```
 */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 2; // two UTF-16 units, four bytes
        i++;
      } else n += 2; // lone surrogate: U+FFFD, three bytes
    } else n += 2;
  }
  return n;
}

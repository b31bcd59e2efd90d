/**
 * Joining byte chunks into one array.
 *
 * @module
 */

/**
 * Concatenates `parts` into one new `Uint8Array` (a single part is returned as it is).
 *
 * @example Join two chunks
 * ```ts
 * import { concatBytes } from "./concat_bytes.ts";
 * import assert from "node:assert/strict";
 * const out = concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * assert.ok(out.join(",") === "1,2,3");
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

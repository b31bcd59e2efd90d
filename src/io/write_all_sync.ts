/**
 * Writes a whole buffer to a synchronous writer (stdout, stderr, an open file).
 *
 * @module
 */

/**
 * Writes all of `bytes` to a synchronous writer, looping over partial writes.
 *
 * @example Write to a buffer
 * ```ts
 * import { writeAllSync } from "./write_all_sync.ts";
 * import assert from "node:assert/strict";
 * const chunks: Uint8Array[] = [];
 * writeAllSync({ writeSync: (b) => (chunks.push(b.slice()), b.length) }, new Uint8Array(3));
 * assert.ok(chunks.length === 1);
 * ```
 */
export function writeAllSync(
  writer: { writeSync(p: Uint8Array): number },
  bytes: Uint8Array,
): void {
  let offset = 0;
  while (offset < bytes.length) {
    offset += writer.writeSync(offset === 0 ? bytes : bytes.subarray(offset));
  }
}

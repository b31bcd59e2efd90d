/**
 * Random IVs and nonces without a system call per record.
 *
 * @module
 */

import { randomFillSync } from "node:crypto";

const POOL_SIZE = 8192;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * Copies `length` bytes from the operating system's CSPRNG into `target` at `at`, drawing
 * from a pool refilled 8 KiB at a time. Each byte is handed out once.
 *
 * @example Fill a 12-byte nonce
 * ```ts
 * import { fillRandom } from "./random_pool.ts";
 * const nonce = new Uint8Array(12);
 * fillRandom(nonce, 0, 12);
 * ```
 */
export function fillRandom(target: Uint8Array, at: number, length: number): void {
  if (length > POOL_SIZE) {
    randomFillSync(target, at, length);
    return;
  }
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  target.set(pool.subarray(offset, offset + length), at);
  pool.fill(0, offset, offset + length);
  offset += length;
}

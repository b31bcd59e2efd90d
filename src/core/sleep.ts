/**
 * A pause.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds.
 *
 * @example Wait a little
 * ```ts
 * import { sleep } from "./sleep.ts";
 * import assert from "node:assert/strict";
 * const started = Date.now();
 * await sleep(5);
 * assert.ok(Date.now() - started >= 4);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

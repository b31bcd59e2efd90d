/**
 * Waiting for a promise no later than a deadline.
 *
 * @module
 */

/**
 * Resolves with what `promise` resolves to, or with `late` at `deadline` (epoch ms) if it has
 * not settled by then. The timer is cleared either way, so it never holds the process.
 *
 * @example A promise that misses its deadline
 * ```ts
 * import { beforeDeadline } from "./before_deadline.ts";
 * import assert from "node:assert/strict";
 * const never = new Promise<string>(() => {});
 * assert.equal(await beforeDeadline(never, Date.now() + 10, "late"), "late");
 * assert.equal(await beforeDeadline(Promise.resolve("done"), Date.now() + 10, "late"), "done");
 * ```
 */
export async function beforeDeadline<T, L>(
  promise: Promise<T>,
  deadline: number,
  late: L,
): Promise<T | L> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<L>((resolve) => {
        timer = setTimeout(() => resolve(late), Math.max(0, deadline - Date.now()));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

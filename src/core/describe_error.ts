/**
 * The message of an error with its causes.
 *
 * @module
 */

import { messageOf } from "./message_of.ts";

/** Causes followed at most: a longer chain is a loop or noise. */
const MAX_CAUSES = 5;

/**
 * The message of `error`, followed by the message of each `cause` down its chain that it does
 * not already say (`Cannot open sink "db": connect ECONNREFUSED 127.0.0.1:5432`). A plugin's
 * `new Error('Cannot open sink "db"', { cause })` is reported with why.
 *
 * @example A cause the message does not say
 * ```ts
 * import { describeError } from "./describe_error.ts";
 * import assert from "node:assert/strict";
 * const refused = new Error("connection refused");
 * assert.equal(
 *   describeError(new Error('Cannot open sink "db"', { cause: refused })),
 *   'Cannot open sink "db": connection refused',
 * );
 * assert.equal(describeError(new Error("a: connection refused", { cause: refused })), "a: connection refused");
 * ```
 */
export function describeError(error: unknown): string {
  let text = messageOf(error);
  let cause = error instanceof Error ? error.cause : undefined;
  for (let i = 0; i < MAX_CAUSES && cause !== undefined && cause !== null; i++) {
    const message = messageOf(cause).split("\n")[0]!.trim();
    if (message !== "" && !text.includes(message)) text += `: ${message}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

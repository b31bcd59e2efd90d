/**
 * The message of anything thrown.
 *
 * @module
 */

/**
 * The message of a thrown value: an `Error`'s `message`, anything else as a string (code may
 * throw strings, numbers or `undefined`).
 *
 * @example An error and a thrown string
 * ```ts
 * import { messageOf } from "./message_of.ts";
 * import assert from "node:assert/strict";
 * assert.equal(messageOf(new TypeError("bad value")), "bad value");
 * assert.equal(messageOf("plain"), "plain");
 * assert.equal(messageOf(undefined), "undefined");
 * ```
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

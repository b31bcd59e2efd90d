/**
 * Errors that a listener of the global `error` event has handled itself.
 *
 * @module
 */

/**
 * Errors a listener of the global `error` or `unhandledrejection` event has handled (counted
 * and reported in its own words, such as the NATS client's late socket errors). The CLI's
 * catch-all, which counts every other such error as a bug and makes `sluice run` exit 5,
 * passes these over: it decides after the event's dispatch, when every listener has run.
 *
 * @example Mark an error handled
 * ```ts
 * import assert from "node:assert/strict";
 * import { handledErrors } from "./handled_errors.ts";
 * const error = new Error("ECONNRESET after close");
 * handledErrors.add(error);
 * assert.ok(handledErrors.has(error));
 * ```
 */
export const handledErrors: WeakSet<object> = new WeakSet();

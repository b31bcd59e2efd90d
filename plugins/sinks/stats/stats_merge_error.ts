/**
 * The error of merging two `stats` states that do not line up.
 *
 * @module
 */

/**
 * Thrown by `StatsAggregator.merge` when the two states cannot be combined (different windows).
 *
 * @example Name the error
 * ```ts
 * import assert from "node:assert/strict";
 * import { StatsMergeError } from "./stats_merge_error.ts";
 * const error = new StatsMergeError("Cannot merge");
 * assert.equal(error.name, "StatsMergeError");
 * ```
 */
export class StatsMergeError extends Error {
  /** Creates the error; `options.cause` carries what failed underneath. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StatsMergeError";
  }
}

/**
 * The error a command throws for bad arguments.
 *
 * @module
 */

/**
 * Wrong or missing command-line arguments: `main` prints the message and the command's
 * usage and exits with code 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 * import assert from "node:assert/strict";
 * const error = new UsageError("Missing --config FILE");
 * assert.ok(error.name === "UsageError");
 * ```
 */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * The `http` source's whole-request failure.
 *
 * @module
 */

/**
 * A request the `http` source refuses whole: answered with `status`, counted under `reason`
 * in `sluice_records_rejected_total`.
 *
 * @example A refused method
 * ```ts
 * import { RequestError } from "./request_error.ts";
 * import assert from "node:assert/strict";
 * const error = new RequestError(405, "method_not_allowed", "Method PUT is not allowed; use POST");
 * assert.equal(error.name, "RequestError");
 * assert.equal(error.status, 405);
 * ```
 */
export class RequestError extends Error {
  /** Creates the error. */
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/**
 * The error a sink throws for a batch that must not be retried: part of the sink contract.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";

/**
 * An error a sink throws for a batch that must not be retried (the peer rejected it);
 * the batch goes to the fallback sink or is counted as dropped with `reason`. When only
 * part of the batch failed, `records` names that part: the rest counts as delivered.
 * (Any error a sink throws may carry such a `records` array.)
 */
export class DeliveryError extends Error {
  /** The records that were not delivered, when not the whole batch. */
  records: readonly LogRecord[] | undefined;
  /** Creates the error; `reason` becomes the drop reason label. */
  constructor(
    message: string,
    readonly reason: string,
    readonly retryable = false,
    options?: ErrorOptions & { records?: readonly LogRecord[] },
  ) {
    super(message, options);
    this.name = "DeliveryError";
    this.records = options?.records;
  }
}

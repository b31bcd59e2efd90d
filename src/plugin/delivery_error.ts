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

  /**
   * The part of `batch` that any error a sink threw says was not delivered: its `records`
   * when it carries them, else the whole batch.
   *
   * @example A partly delivered batch
   * ```ts
   * import { DeliveryError } from "./delivery_error.ts";
   * import { createRecord } from "../core/record.ts";
   * import assert from "node:assert/strict";
   * const [a, b] = [createRecord({ message: "a" }), createRecord({ message: "b" })];
   * const error = new DeliveryError("b refused", "rejected", false, { records: [b] });
   * assert.deepEqual(DeliveryError.undeliveredOf(error, [a, b]), [b]);
   * assert.deepEqual(DeliveryError.undeliveredOf(new Error("down"), [a, b]), [a, b]);
   * ```
   */
  static undeliveredOf(error: unknown, batch: LogRecord[]): LogRecord[] {
    const records = (error as { records?: unknown } | null)?.records;
    if (!Array.isArray(records)) return batch;
    const failed = new Set(records);
    return batch.filter((record) => failed.has(record));
  }
}

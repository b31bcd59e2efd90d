/**
 * A sink's in-memory queue: the records and the bytes each was charged.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { estimateRecordBytes } from "./record_bytes.ts";

/** Queued records with their estimated size, for a sink's `max_records` and `max_bytes`. */
export class RecordQueue {
  #records: LogRecord[] = [];
  /**
   * What each queued record was charged: a caller may change a record's fields after logging
   * it, so dropping the oldest subtracts what was added, not a new estimate.
   */
  #charges: number[] = [];
  #bytes = 0;

  /** Records queued. */
  get length(): number {
    return this.#records.length;
  }

  /** Estimated bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends a record, charged its estimated size. */
  push(record: LogRecord): void {
    const charge = estimateRecordBytes(record);
    this.#records.push(record);
    this.#charges.push(charge);
    this.#bytes += charge;
  }

  /** Removes the oldest record; `false` when there was none. */
  dropOldest(): boolean {
    if (!this.#records.shift()) return false;
    this.#bytes -= this.#charges.shift()!;
    return true;
  }

  /** Takes every record queued, leaving the queue empty. */
  take(): LogRecord[] {
    const records = this.#records;
    this.#records = [];
    this.#charges = [];
    this.#bytes = 0;
    return records;
  }
}

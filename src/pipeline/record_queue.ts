/**
 * A sink's in-memory queue: the records and the bytes each was charged.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { estimateRecordBytes } from "./record_bytes.ts";
import { JsonFieldsRecord, type TextBlock } from "../core/json_fields_record.ts";

/**
 * What a record whose fields are still JSON text holds beyond what `estimateRecordBytes`
 * charges a parsed one: its fields' Proxy, the Proxy's handler and its empty target. Heap per
 * record of the benchmark's line, 100,000 records: 329 bytes, against 173 parsed in full.
 */
const TEXT_RECORD_OVERHEAD = 160;

/** Consecutive queued records cut from one block of text. */
interface Run {
  block: TextBlock;
  count: number;
}

/** Queued records with their estimated size, for a sink's `max_records` and `max_bytes`. */
export class RecordQueue {
  #records: LogRecord[] = [];
  /**
   * What each queued record was charged: a caller may change a record's fields after logging
   * it, so dropping the oldest subtracts what was added, not a new estimate.
   */
  #charges: number[] = [];
  #bytes = 0;
  /** The blocks queued records' strings are cut from (see `JsonFieldsRecord.blockOf`). */
  #runs: Run[] = [];
  #held = 0;

  /** Records queued. */
  get length(): number {
    return this.#records.length;
  }

  /**
   * Estimated bytes queued (what `buffer.max_bytes` bounds): the records' own and the blocks
   * of text their strings are cuts of.
   */
  get bytes(): number {
    return this.#bytes + this.#held;
  }

  /** Estimated bytes of the queued records themselves (when a batch is worth writing). */
  get ownBytes(): number {
    return this.#bytes;
  }

  /** Appends a record, charged its estimated size. */
  push(record: LogRecord): void {
    const charge = estimateRecordBytes(record);
    // A record whose strings are cuts of a read's text keeps that text alive: the queue holds
    // each such block once for its run of records (a sink whose level keeps one line of 400
    // holds the other 399 too).
    const block = JsonFieldsRecord.blockOf(record);
    if (block !== undefined) {
      this.#held += TEXT_RECORD_OVERHEAD;
      const last = this.#runs[this.#runs.length - 1];
      if (last !== undefined && last.block === block) last.count++;
      else {
        this.#runs.push({ block, count: 1 });
        this.#held += block.length;
      }
    }
    this.#records.push(record);
    this.#charges.push(charge);
    this.#bytes += charge;
  }

  /**
   * Drops the oldest record, and more while the queue is still at `maxBytes` and has not yet
   * freed what `incoming` will be charged (without `incoming`: until it is under `maxBytes`): records cut from one read release its text only
   * with the last of them, and one large record may outweigh many. A queue a source filled
   * past its bound (sources wait only once it is there) keeps that overfill. Returns how many
   * went (0 when the queue was empty).
   */
  dropOldest(maxBytes = Infinity, incoming?: LogRecord): number {
    const need = incoming === undefined ? Infinity : this.#chargeOf(incoming);
    const before = this.bytes;
    let dropped = 0;
    while (this.#shift()) {
      dropped++;
      if (this.bytes < maxBytes || before - this.bytes >= need) break;
    }
    return dropped;
  }

  /** What pushing `record` would add to `bytes`. */
  #chargeOf(record: LogRecord): number {
    const block = JsonFieldsRecord.blockOf(record);
    if (block === undefined) return estimateRecordBytes(record);
    const last = this.#runs[this.#runs.length - 1];
    const text = last !== undefined && last.block === block ? 0 : block.length;
    return estimateRecordBytes(record) + TEXT_RECORD_OVERHEAD + text;
  }

  #shift(): boolean {
    const record = this.#records.shift();
    if (!record) return false;
    this.#bytes -= this.#charges.shift()!;
    const block = JsonFieldsRecord.blockOf(record);
    if (block !== undefined) this.#held -= TEXT_RECORD_OVERHEAD;
    const first = this.#runs[0];
    if (first !== undefined && block === first.block) {
      if (--first.count === 0) {
        this.#runs.shift();
        this.#held -= first.block.length;
      }
    }
    return true;
  }

  /** Takes every record queued, leaving the queue empty. */
  take(): LogRecord[] {
    const records = this.#records;
    this.#records = [];
    this.#charges = [];
    this.#bytes = 0;
    this.#runs = [];
    this.#held = 0;
    return records;
  }
}

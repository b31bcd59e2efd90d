/**
 * A disk buffer's ledger: where delivery has got to. It is a hint that saves replaying
 * what was delivered, never the only copy of anything: a ledger that is stale, torn or gone
 * costs duplicates, not records.
 *
 * Two 32-byte slots, written in turn (a torn write can break at most the slot being written;
 * the other still holds the previous position):
 *
 * ```text
 * offset  size  field
 *      0     4  magic "SLG1"
 *      4     4  in flight: records handed to the sink and not yet acknowledged, u32
 *      8     8  sequence number, f64 (the newer valid slot wins)
 *     16     8  segment id of the first unacknowledged frame, f64
 *     24     4  its offset in that segment, u32
 *     28     4  CRC-32 of bytes 0..28
 * ```
 *
 * @module
 */

import { crc32 } from "node:zlib";
import type { BufferFile } from "./buffer_fs.ts";

/** Where the first frame not yet delivered starts. */
export interface LedgerPosition {
  /** Segment id. */
  segment: number;
  /** Byte offset in that segment. */
  offset: number;
  /** Records from there on that were handed to the sink, not acknowledged (maybe delivered). */
  inFlight: number;
}

const SLOT = 32;
const MAGIC = 0x31474c53; // "SLG1" little-endian

/** Reads and writes the two slots of a ledger file. */
export class Ledger {
  #seq = 0;
  readonly #slot = new Uint8Array(SLOT);
  readonly #view = new DataView(this.#slot.buffer);

  /** Wraps an open ledger file. */
  constructor(readonly file: BufferFile) {}

  /**
   * The newest valid position, or `undefined` when neither slot checks out (a new buffer, or
   * a ledger lost: everything on disk is then replayed). `damaged` says whether a slot that
   * was written does not check out.
   */
  read(): { position: LedgerPosition | undefined; damaged: boolean } {
    const bytes = this.file.readAt(0, 2 * SLOT);
    let best: LedgerPosition | undefined;
    let bestSeq = -1;
    let damaged = false;
    for (let at = 0; at + SLOT <= bytes.length; at += SLOT) {
      const slot = bytes.subarray(at, at + SLOT);
      if (slot.every((b) => b === 0)) continue;
      const view = new DataView(slot.buffer, slot.byteOffset, SLOT);
      const valid = view.getUint32(0, true) === MAGIC &&
        view.getUint32(28, true) === crc32(slot.subarray(0, 28));
      if (!valid) {
        damaged = true;
        continue;
      }
      const seq = view.getFloat64(8, true);
      if (seq > bestSeq) {
        bestSeq = seq;
        best = {
          segment: view.getFloat64(16, true),
          offset: view.getUint32(24, true),
          inFlight: view.getUint32(4, true),
        };
      }
    }
    if (bytes.length % SLOT !== 0) damaged = true;
    this.#seq = Math.max(0, bestSeq);
    return { position: best, damaged };
  }

  /** Writes `position` over the older slot (not synced: see `sync`). */
  write(position: LedgerPosition): void {
    const seq = ++this.#seq;
    const view = this.#view;
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, position.inFlight, true);
    view.setFloat64(8, seq, true);
    view.setFloat64(16, position.segment, true);
    view.setUint32(24, position.offset, true);
    view.setUint32(28, crc32(this.#slot.subarray(0, 28)), true);
    this.file.writeAt((seq & 1) * SLOT, this.#slot);
  }

  /** Makes the last write durable. */
  sync(): void {
    this.file.sync();
  }

  /** `sync()` on another thread where the file can (see `BufferFile.syncInBackground`). */
  async syncInBackground(): Promise<void> {
    if (this.file.syncInBackground) await this.file.syncInBackground();
    else this.file.sync();
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }
}

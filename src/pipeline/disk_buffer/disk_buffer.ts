/**
 * A sink's disk buffer: records appended to checksummed segment files before the sink takes
 * them, removed only once the sink has delivered them, replayed after a crash.
 *
 * ## Files (one directory per sink, `<data_dir>/buffers/<sink id>/`)
 *
 * - `<20-digit id>.seg`: segments, append-only, written by one process at a time; each append
 *   is one frame (see `frame.ts`). A new run never appends to an old segment (its tail may be
 *   torn): it starts a new one, with an id above every id it has seen.
 * - `ledger`: where delivery has got to (see `ledger.ts`), a hint that saves duplicates.
 * - `<name>.unreadable`: a segment that could not be opened or read, moved aside.
 *
 * This module holds the positions and the order of operations; `survey.ts` reads a
 * directory at open (what `sluice buffer check` reports), `segment_files.ts` opens, reads,
 * deletes and moves aside the files, `frame.ts` and `ledger.ts` are the two formats.
 *
 * ## The order of operations (docs/disk_buffer.md has the table of crashes between steps)
 *
 * Append, per batch of records:
 *   1. encode the frame in memory;
 *   2. `write(2)` it at the end of the current segment — one call; a failed write is cut
 *      off again (`ftruncate`), or the segment is given up and the next append opens another;
 *   3. with `fsync: always`, `fdatasync` the segment, and the directory when the segment is
 *      new; the records are acknowledged only after this step (with `interval` and `never`,
 *      after step 2).
 *
 * Delivery, per batch the sink takes:
 *   4. write the ledger: the first unacknowledged position and how many records are in flight;
 *   5. the sink delivers the batch;
 *   6. write the ledger: the position after the batch;
 *   7. delete every segment wholly before that position, except the one being written —
 *      always after step 6, so a ledger never points before a deleted segment's end.
 *
 * Sync (`sync()`: every append with `always`, every `fsync_interval` with `interval`, at
 * close with both): `fdatasync` the segment being written, then the directory if a segment
 * was created since, then the ledger. A segment is also synced before the writer leaves it.
 *
 * ## Why no crash loses an acknowledged record
 *
 * - A record is acknowledged only once its frame is written (kill -9 keeps the page cache) or
 *   synced (`always`: a power loss keeps it too).
 * - A segment is deleted only when every frame in it was delivered.
 * - The ledger only ever moves past delivered frames; recovery trusts it only to skip, and
 *   treats a ledger that is missing, torn or pointing past the data as "replay more".
 * - Recovery never throws on damage: a torn or corrupt region is counted and skipped to the
 *   next frame that checks out; a segment it cannot read is moved aside, counted and named.
 *
 * @module
 */

import type { LogRecord } from "../../core/record.ts";
import { type BufferFs, denoBufferFs } from "./buffer_fs.ts";
import { encodeFrame } from "./frame.ts";
import { Ledger, type LedgerPosition } from "./ledger.ts";
import { type Position, type Segment, SegmentFiles } from "./segment_files.ts";
import { surveyBuffer } from "./survey.ts";
import { messageOf } from "../../core/message_of.ts";

/** When a disk buffer calls `fdatasync`: what an acknowledgement survives. */
export type FsyncPolicy = "always" | "interval" | "never";

/** Options of {@linkcode DiskBuffer.open}. */
export interface DiskBufferOptions {
  /** The buffer's own directory (created if missing). */
  dir: string;
  /** `always` syncs every append before it returns; the others leave syncing to `sync()`. */
  fsync: FsyncPolicy;
  /** A segment is left for a new one once it holds this much (default 8 MiB). */
  segmentBytes?: number;
  /**
   * Recent frames whose records are kept in memory, so that a sink keeping up never reads
   * its records back from disk (default 4 MiB of encoded frames).
   */
  windowBytes?: number;
  /** The file system (a simulated one in tests). */
  fs?: BufferFs;
  /** The clock (epoch ms) frames are stamped with. */
  now?: () => number;
  /** Told, in a sentence, about damage found and replays: corrupt regions, moved segments. */
  notice?: (message: string) => void;
}

/** An append or sync that failed: the records it carried are not acknowledged. */
export class DiskBufferError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DiskBufferError";
  }
}

interface WindowFrame {
  segment: number;
  offset: number;
  end: number;
  count: number;
  bytes: number;
  time: number;
  records: readonly LogRecord[];
}

interface Outstanding {
  end: Position;
  count: number;
  bytes: number;
  time: number;
}

const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * One sink's disk buffer. Synchronous: every call is one or a few system calls on the page
 * cache, in the order the module documentation writes down.
 *
 * @example Append, crash, replay
 * ```ts
 * import assert from "node:assert/strict";
 * import { DiskBuffer } from "./disk_buffer.ts";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   const record = { time: 1, level: 20, logger: "app", message: "kept", fields: {} };
 *   const first = DiskBuffer.open({ dir, fsync: "always" });
 *   first.append([record]);
 *   // No close(): as after kill -9, the next run finds the record.
 *   const second = DiskBuffer.open({ dir, fsync: "always" });
 *   assert.equal(second.pendingRecords, 1);
 *   assert.deepEqual(second.read(100, 1 << 20), [record]);
 *   second.ack();
 *   assert.equal(second.pendingRecords, 0);
 *   second.close();
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export class DiskBuffer {
  /**
   * Records the ledger said were in flight when the last run stopped: replayed, and possibly
   * delivered before (at-least-once). Exact after kill -9; after a power loss, more may be.
   */
  readonly possibleDuplicates: number;

  readonly #dir: string;
  readonly #fs: BufferFs;
  readonly #policy: FsyncPolicy;
  readonly #segmentBytes: number;
  readonly #windowBytes: number;
  readonly #now: () => number;
  readonly #notice: (message: string) => void;
  readonly #ledger: Ledger;
  readonly #files: SegmentFiles;
  #nextId: number;
  #dirDirty = false;
  #window: WindowFrame[] = [];
  #windowUsed = 0;

  /** The first unacknowledged position. */
  #ackPos: Position;
  /** The first position not handed to the sink. */
  #readPos: Position;
  readonly #outstanding: Outstanding[] = [];
  #outstandingRecords = 0;
  #outstandingBytes = 0;
  /** Records and frame bytes from `#readPos` on. */
  #aheadRecords = 0;
  #aheadBytes = 0;
  #closed = false;

  private constructor(options: DiskBufferOptions) {
    this.#dir = options.dir;
    this.#fs = options.fs ?? denoBufferFs;
    this.#policy = options.fsync;
    this.#segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.#windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.#now = options.now ?? Date.now;
    this.#notice = options.notice ?? (() => {});
    const fs = this.#fs;
    fs.mkdirp(this.#dir);
    const files = this.#files = new SegmentFiles(this.#dir, fs, this.#notice);

    // R1: the ledger; a damaged or missing one means "replay everything there is".
    this.#ledger = new Ledger(fs.open(files.path("ledger"), true));
    const { position, damaged } = this.#ledger.read();
    if (damaged) {
      this.#notice(
        position
          ? "the ledger's newer slot is damaged; resuming from the older one (records may be replayed)"
          : "the ledger is damaged; replaying every segment from its start (records may be replayed)",
      );
    }

    // R2: the segments and what they hold; unless `fsync: never` each is synced, since a run
    // killed before its interval sync left them in the page cache only, and this run's syncs
    // cover only its own.
    const sync = this.#policy !== "never";
    const survey = surveyBuffer({
      names: fs.list(this.#dir),
      open: (name) => fs.open(files.path(name), false),
      from: position,
      sync,
    });
    this.#nextId = survey.maxId + 1;

    // R3: segments wholly before the ledger were delivered; unreadable ones are moved aside.
    for (const name of survey.delivered) files.remove(name);
    for (const found of survey.segments) {
      const segment: Segment = { id: found.id, name: found.name, size: found.size };
      if (found.error !== undefined) {
        files.moveAside(segment, found.error);
        continue;
      }
      files.list.push(segment);
      files.diskBytes += found.size;
      this.#aheadRecords += found.records;
      this.#aheadBytes += found.bytes;
      for (const region of found.damage) {
        files.damage(segment, region.offset, region.end, "no valid frame");
      }
    }
    if (sync && files.list.length > 0) fs.syncDir(this.#dir);

    // R4: where delivery resumes; a segment the ledger points at the end of was delivered
    // (the run stopped before step 7).
    const first = survey.segments.find((s) => s.error === undefined);
    this.#ackPos = first === undefined
      ? { segment: this.#nextId, offset: 0 }
      : { segment: first.id, offset: first.start };
    this.#readPos = { ...this.#ackPos };
    this.possibleDuplicates = position?.inFlight ?? 0;
    files.deleteBefore(this.#ackPos);
    if (this.possibleDuplicates > 0 && this.#aheadRecords > 0) {
      this.#notice(
        `replaying ${this.#aheadRecords} records; the first ${this.possibleDuplicates} were being delivered when the last run stopped and may arrive twice`,
      );
    }
  }

  /**
   * Opens (or creates) the buffer in `options.dir` and recovers what a previous run left:
   * it never throws on damage (a missing directory it cannot create, or a ledger it cannot
   * open, does throw).
   */
  static open(options: DiskBufferOptions): DiskBuffer {
    return new DiskBuffer(options);
  }

  /** Records appended and not yet acknowledged by `ack()` (in flight included). */
  get pendingRecords(): number {
    return this.#aheadRecords + this.#outstandingRecords;
  }

  /** Encoded bytes of those records' frames. */
  get pendingBytes(): number {
    return this.#aheadBytes + this.#outstandingBytes;
  }

  /** Bytes of the segment files (what `max_bytes` bounds; delivered frames of a segment not yet deleted included). */
  get diskBytes(): number {
    return this.#files.diskBytes;
  }

  /** Corrupt regions found (torn tails, flipped bits), since this buffer was opened. */
  get corruptFrames(): number {
    return this.#files.corruptFrames;
  }

  /** Bytes in those regions. */
  get corruptBytes(): number {
    return this.#files.corruptBytes;
  }

  /** Segments moved aside because they could not be read, since this buffer was opened. */
  get movedAside(): readonly string[] {
    return this.#files.movedAside;
  }

  /** Records handed out by `read()` and not acknowledged yet. */
  get inFlight(): number {
    return this.#outstandingRecords;
  }

  /**
   * Appends `records` as one frame (steps 1–3). When it returns, the records are written
   * (and synced with `fsync: always`). Throws a {@linkcode DiskBufferError} when they are
   * not: nothing of them is then acknowledged, and the buffer stays usable.
   */
  append(records: readonly LogRecord[]): void {
    if (records.length === 0) return;
    this.#assertOpen();
    const time = this.#now();
    const frame = encodeFrame(records, time);
    const files = this.#files;
    let writer = files.writer;
    if (
      writer && writer.segment.size > 0 && writer.segment.size + frame.length > this.#segmentBytes
    ) {
      this.#leaveWriter();
      writer = undefined;
    }
    if (!writer) {
      writer = files.openWriter(this.#nextId++);
      this.#dirDirty = true;
    }
    const segment = writer.segment;
    const offset = segment.size;
    try {
      writer.file.writeAt(offset, frame);
    } catch (error) {
      this.#abandonWrite(offset);
      throw new DiskBufferError(
        `Cannot append to disk buffer segment ${files.path(segment.name)}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    segment.size += frame.length;
    files.diskBytes += frame.length;
    this.#aheadRecords += records.length;
    this.#aheadBytes += frame.length;
    this.#window.push({
      segment: segment.id,
      offset,
      end: segment.size,
      count: records.length,
      bytes: frame.length,
      time,
      records,
    });
    this.#windowUsed += frame.length;
    while (this.#windowUsed > this.#windowBytes && this.#window.length > 0) {
      this.#windowUsed -= this.#window.shift()!.bytes;
    }
    if (this.#policy === "always") this.sync();
  }

  /**
   * Makes everything appended durable: the segment being written, the directory when a
   * segment was created since the last sync, then the ledger. Throws a
   * {@linkcode DiskBufferError}; the segment that failed is not written to again.
   */
  sync(): void {
    this.#assertOpen();
    const writer = this.#files.writer;
    try {
      writer?.file.sync();
      if (this.#dirDirty) {
        this.#fs.syncDir(this.#dir);
        this.#dirDirty = false;
      }
      this.#ledger.sync();
    } catch (error) {
      // After a failed fsync the kernel may have dropped the dirty pages: trust nothing more
      // to that file (https://lwn.net/Articles/752063/).
      if (writer && writer === this.#files.writer) this.#files.closeWriter();
      throw new DiskBufferError(`Cannot sync disk buffer ${this.#dir}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * `sync()` with the two `fdatasync` calls on another thread (the `interval` policy's timer
   * uses it: a blocking sync of 100 ms of appends stalled the pipeline for its duration, 3.4%
   * of the TCP ingest run's CPU profile). Same order: the segment, the directory, the ledger;
   * it covers what was appended before the call. Appends may go on meanwhile; a segment left
   * or a buffer closed meanwhile was synced by the synchronous `sync()` that left or closed it.
   */
  async syncInBackground(): Promise<void> {
    this.#assertOpen();
    const writer = this.#files.writer;
    try {
      if (writer?.file.syncInBackground) await writer.file.syncInBackground();
      else writer?.file.sync();
      if (this.#closed) return;
      if (this.#dirDirty) {
        this.#fs.syncDir(this.#dir);
        this.#dirDirty = false;
      }
      await this.#ledger.syncInBackground();
    } catch (error) {
      if (this.#closed) return;
      if (writer && writer === this.#files.writer) this.#files.closeWriter();
      throw new DiskBufferError(`Cannot sync disk buffer ${this.#dir}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Hands out the next records (whole frames, from the memory window or from disk) up to
   * about `maxRecords` and `maxBytes`, at least one frame; `undefined` when none is waiting.
   * They stay in the buffer until `ack()`; reads are acknowledged in the order they were made.
   */
  read(maxRecords: number, maxBytes: number): LogRecord[] | undefined {
    this.#assertOpen();
    const files = this.#files;
    const pos = { ...this.#readPos };
    const parts: (readonly LogRecord[])[] = [];
    let count = 0;
    let bytes = 0;
    let time = 0;
    while (count < maxRecords && bytes < maxBytes) {
      const segment = files.atOrAfter(pos.segment);
      if (!segment) break;
      if (segment.id !== pos.segment) {
        pos.segment = segment.id;
        pos.offset = 0;
      }
      if (pos.offset >= segment.size) {
        if (segment === files.writer?.segment) break;
        const next = files.atOrAfter(segment.id + 1);
        if (!next) break;
        pos.segment = next.id;
        pos.offset = 0;
        continue;
      }
      const window = this.#window;
      while (
        window.length > 0 &&
        (window[0]!.segment < pos.segment ||
          (window[0]!.segment === pos.segment && window[0]!.offset < pos.offset))
      ) this.#windowUsed -= window.shift()!.bytes;
      const cached = window[0];
      if (cached && cached.segment === pos.segment && cached.offset === pos.offset) {
        window.shift();
        this.#windowUsed -= cached.bytes;
        if (count === 0) time = cached.time;
        parts.push(cached.records);
        count += cached.count;
        bytes += cached.bytes;
        pos.offset = cached.end;
        continue;
      }
      const result = files.readFrame(segment, pos.offset);
      if (result === undefined) {
        // Moved aside, or shorter than recorded: nothing more to read in it.
        pos.offset = segment.size;
        continue;
      }
      if ("records" in result) {
        if (count === 0) time = result.time;
        parts.push(result.records);
        count += result.records.length;
        bytes += result.end - pos.offset;
      }
      pos.offset = result.end;
    }
    this.#aheadRecords = Math.max(0, this.#aheadRecords - count);
    this.#aheadBytes = Math.max(0, this.#aheadBytes - bytes);
    if (files.caughtUp(pos)) {
      // Whatever the counts say, nothing is left ahead (a region that went bad after open).
      this.#aheadRecords = 0;
      this.#aheadBytes = 0;
    }
    const moved = pos.segment !== this.#readPos.segment || pos.offset !== this.#readPos.offset;
    this.#readPos = pos;
    if (!moved) return undefined;
    if (count === 0 && this.#outstanding.length === 0) {
      // Only damage was skipped: nothing to deliver, so nothing to wait for.
      this.#ackPos = { ...pos };
      this.#advance();
      return undefined;
    }
    this.#outstanding.push({ end: { ...pos }, count, bytes, time });
    this.#outstandingRecords += count;
    this.#outstandingBytes += bytes;
    if (count === 0) return undefined;
    this.#writeLedger(); // step 4
    return parts.length === 1 ? parts[0]!.slice() : parts.flat();
  }

  /**
   * Acknowledges the oldest `read()` not yet acknowledged: its records were delivered (or
   * handed to a fallback). Steps 6 and 7: the ledger moves past them, then every segment
   * wholly delivered is deleted.
   */
  ack(): void {
    this.#assertOpen();
    const done = this.#outstanding.shift();
    if (!done) return;
    this.#outstandingRecords -= done.count;
    this.#outstandingBytes -= done.bytes;
    this.#ackPos = done.end;
    // Reads that only skipped damage are acknowledged with the read before them.
    while (this.#outstanding[0]?.count === 0) this.#ackPos = this.#outstanding.shift()!.end;
    this.#advance();
  }

  /** When the oldest record not yet acknowledged was appended (epoch ms), if any. */
  oldestTime(): number | undefined {
    if (this.pendingRecords === 0) return undefined;
    const outstanding = this.#outstanding.find((o) => o.count > 0);
    if (outstanding) return outstanding.time;
    const cached = this.#window[0];
    const pos = this.#readPos;
    if (cached && cached.segment === pos.segment && cached.offset === pos.offset) {
      return cached.time;
    }
    const files = this.#files;
    for (let segment = files.atOrAfter(pos.segment); segment;) {
      let offset = segment.id === pos.segment ? pos.offset : 0;
      for (;;) {
        let next;
        try {
          next = files.reader(segment)?.next(offset);
        } catch {
          break; // the next read() moves it aside and says so
        }
        if (!next) break;
        if ("frame" in next) return next.frame.time;
        offset = next.corrupt.end;
      }
      segment = files.atOrAfter(segment.id + 1);
    }
    return undefined;
  }

  /** Syncs (unless `fsync: never`) and closes the files. Records not acknowledged stay. */
  close(): void {
    if (this.#closed) return;
    try {
      if (this.#policy !== "never") this.sync();
    } finally {
      this.#closed = true;
      this.#files.closeWriter();
      this.#files.closeReader();
      this.#ledger.close();
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new DiskBufferError(`The disk buffer ${this.#dir} is closed`);
  }

  /**
   * Leaves the segment being written for a new one, synced first unless `fsync: never` (a
   * later sync covers only the new one). A failed sync fails the append that wanted to roll.
   */
  #leaveWriter(): void {
    if (this.#policy !== "never") this.sync();
    this.#files.closeWriter();
  }

  /** After a failed write at `offset`: cut the segment back, or give it up. */
  #abandonWrite(offset: number): void {
    const files = this.#files;
    const writer = files.writer!;
    try {
      writer.file.truncate(offset);
    } catch {
      // The tail may hold part of the frame: readers skip it as damage. Never write after it.
      try {
        const size = writer.file.size();
        files.diskBytes += Math.max(0, size - writer.segment.size);
        writer.segment.size = Math.max(size, writer.segment.size);
      } catch {
        // Size unknown: readers stop at the size recorded.
      }
      files.closeWriter();
    }
  }

  /** Steps 6 and 7: the ledger, then the segments wholly delivered. */
  #advance(): void {
    this.#writeLedger();
    this.#files.deleteBefore(this.#ackPos); // step 7, always after step 6
  }

  #writeLedger(): void {
    const position: LedgerPosition = {
      segment: this.#ackPos.segment,
      offset: this.#ackPos.offset,
      inFlight: this.#outstandingRecords,
    };
    try {
      this.#ledger.write(position);
    } catch (error) {
      // The ledger only saves duplicates: losing a write of it loses nothing.
      this.#notice(`cannot write the ledger of ${this.#dir}: ${messageOf(error)}`);
    }
  }
}

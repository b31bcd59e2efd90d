/**
 * The disk-buffer side of a sink node (`buffer.type: disk`): records go into frames appended
 * at the next microtask, batches are read back from disk, and a delivered batch is
 * acknowledged so its segment can go. The node keeps the retries, the fallback and the
 * counting of losses.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import type { DiskBufferConfig } from "../config/types.ts";
import type { InternalLog } from "../plugin/types.ts";
import type { Metrics, Series } from "./metrics.ts";
import type { DiskBufferStatus } from "./sink_status.ts";
import { DiskBuffer } from "./disk_buffer/disk_buffer.ts";
import { RETRY_INITIAL, RETRY_MAX } from "./retry.ts";

/**
 * Most records in one disk-buffer frame: a log call in a tight loop never yields to the
 * microtask that appends, so the pending frame is appended at this size instead.
 */
const FRAME_RECORDS = 4096;
/** Most bytes of frames a disk-buffered sink reads back for one batch. */
const DISK_BATCH_BYTES = 4 * 1024 * 1024;
/** How often a disk buffer's oldest-record age is refreshed when it does not sync on a timer. */
const DISK_TICK = 1000;

/** Options of a {@linkcode SinkDisk}. */
export interface SinkDiskOptions {
  /** The sink's id. */
  id: string;
  /** Its directory (`<data_dir>/buffers/<id>`). */
  dir: string;
  config: DiskBufferConfig;
  /** `buffer.max_bytes`: the bound of its segment files. */
  maxBytes: number;
  metrics: Metrics;
  log: InternalLog;
  /** The sink's `component_errors_total`, which counts the buffer's failures too. */
  errors: Series;
  /** Whether the sink has shut (nothing is appended or synced after). */
  isClosed(): boolean;
  /** Called after everything pending was appended (acknowledgements, waiting sources, a write). */
  afterCommit(): void;
}

/** A sink's disk buffer with the frames waiting to be appended to it. */
export class SinkDisk {
  readonly #id: string;
  readonly #maxBytes: number;
  readonly #log: InternalLog;
  readonly #errors: Series;
  readonly #isClosed: () => boolean;
  readonly #afterCommit: () => void;
  readonly #buffer: DiskBuffer;
  readonly #series: { corrupt: Series; aside: Series; errors: Series };

  /** Records waiting for the disk buffer's next append (the next microtask). */
  #pending: LogRecord[] = [];
  /** A frame the disk refused (full, failing): appended again before anything else. */
  #unwritten: LogRecord[] = [];
  #committing = false;
  /** Records appended to the disk buffer, ever. */
  #committed = 0;
  /** Whether a batch read from the disk buffer is out (being written or retried). */
  #open = false;
  readonly #timer: ReturnType<typeof setInterval>;
  #appendRetry: ReturnType<typeof setTimeout> | undefined;
  #appendBackoff = RETRY_INITIAL;
  #syncDue = false;
  #seenCorrupt = 0;
  #seenAside = 0;

  constructor(options: SinkDiskOptions) {
    this.#id = options.id;
    this.#maxBytes = options.maxBytes;
    this.#log = options.log;
    this.#errors = options.errors;
    this.#isClosed = options.isClosed;
    this.#afterCommit = options.afterCommit;
    const notice = (message: string) =>
      this.#log.warnOnce(
        `sink:${this.#id}:buffer:${message}`,
        `Disk buffer of sink "${this.#id}": ${message}`,
      );
    this.#buffer = DiskBuffer.open({
      dir: options.dir,
      fsync: options.config.fsync,
      // A quarter of the bound: deletion is per segment, so at most that much of the
      // bound is taken by delivered frames of a segment not yet finished.
      segmentBytes: Math.max(
        64 * 1024,
        Math.min(64 * 1024 * 1024, Math.floor(this.#maxBytes / 4)),
      ),
      notice,
    });
    const metrics = options.metrics;
    const component = { component: this.#id };
    this.#series = {
      corrupt: metrics.counter(
        "buffer_corrupt_frames_total",
        "Damaged regions a disk buffer found and skipped (torn tails, bad checksums).",
        component,
      ),
      aside: metrics.counter(
        "buffer_segments_moved_aside_total",
        "Disk buffer segments that could not be read and were moved aside.",
        component,
      ),
      errors: metrics.counter(
        "buffer_errors_total",
        "Disk buffer appends and syncs that failed (the records were kept and retried).",
        component,
      ),
    };
    metrics.counter(
      "buffer_replayed_records_total",
      "Records a disk buffer found at start-up and delivers again.",
      component,
    ).inc(this.#buffer.pendingRecords);
    metrics.counter(
      "buffer_possible_duplicates_total",
      "Replayed records that were being delivered when the previous run stopped (maybe delivered twice).",
      component,
    ).inc(Math.min(this.#buffer.possibleDuplicates, this.#buffer.pendingRecords));
    this.#countDamage();
    if (this.stored > 0) {
      this.#log.info(`Sink "${this.#id}" resumes ${this.stored} records from its disk buffer`);
    }
    this.#timer = setInterval(
      this.#onTick,
      options.config.fsync === "interval" ? options.config.fsync_interval : DISK_TICK,
    );
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** What close() left on disk for the next start (`sluice run`'s exit code reads it). */
  #closed: DiskBufferStatus | undefined;

  /** The buffer's state, for `/metrics`; once closed, what it left for the next start. */
  get status(): DiskBufferStatus {
    if (this.#closed) return this.#closed;
    const oldest = this.#buffer.oldestTime();
    return {
      bytes: this.#buffer.diskBytes,
      records: this.#buffer.pendingRecords,
      oldestAge: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) / 1000,
    };
  }

  /** Records on disk not yet delivered (at start-up: what the last run left). */
  get stored(): number {
    return this.#buffer.pendingRecords;
  }

  /** Records appended, ever: how far every record is safe. */
  get committed(): number {
    return this.#committed;
  }

  /** Records the disk has not taken yet (pending or refused). */
  get unsent(): number {
    return this.#pending.length + this.#unwritten.length;
  }

  /** Records waiting: on disk, pending or refused. */
  get depth(): number {
    return this.#buffer.pendingRecords + this.unsent;
  }

  /** Estimated bytes on disk not yet delivered. */
  get queuedBytes(): number {
    return this.#buffer.pendingBytes;
  }

  /** Whether the buffer is at its bound, or refused the last append. */
  get saturated(): boolean {
    return this.#unwritten.length > 0 || this.#buffer.diskBytes >= this.#maxBytes;
  }

  /** Why the buffer takes nothing, or `undefined`. */
  get problem(): string | undefined {
    if (!this.saturated) return undefined;
    return this.#unwritten.length > 0
      ? `disk buffer cannot append (${this.#unwritten.length} records waiting in memory)`
      : `disk buffer full (${this.#buffer.diskBytes} of ${this.#maxBytes} bytes)`;
  }

  /** Whether a batch can be read (records on disk not already out). */
  get readable(): boolean {
    return this.#buffer.pendingRecords > this.#buffer.inFlight;
  }

  /** Says once that the buffer is full and records are dropped. */
  warnFull(): void {
    this.#log.warnOnce(
      `sink:${this.#id}:buffer_full`,
      `The disk buffer of sink "${this.#id}" is full (max_bytes ${this.#maxBytes}); records are dropped`,
    );
  }

  /** A record into the next frame, appended at the next microtask. */
  add(record: LogRecord): void {
    this.#pending.push(record);
    if (this.#pending.length >= FRAME_RECORDS) this.commit();
    else if (!this.#committing) {
      this.#committing = true;
      queueMicrotask(() => {
        if (this.#committing) this.commit();
      });
    }
  }

  /**
   * Appends what is pending (a frame refused before goes first). On a failure (disk full, I/O
   * error) the records are kept, the buffer counts as full (sources wait), and the append is
   * tried again with back-off.
   */
  commit(): void {
    if (this.#isClosed() && !this.#committing) return;
    this.#committing = false;
    if (this.#appendRetry !== undefined) return; // the retry timer appends
    while (this.#unwritten.length > 0 || this.#pending.length > 0) {
      const batch = this.#unwritten.length > 0 ? this.#unwritten : this.#pending;
      try {
        this.#buffer.append(batch);
      } catch (error) {
        if (batch === this.#pending) {
          this.#unwritten = this.#pending;
          this.#pending = [];
        }
        this.#fail("append to", error);
        this.#appendRetry = setTimeout(() => {
          this.#appendRetry = undefined;
          if (!this.#isClosed()) this.commit();
        }, this.#appendBackoff);
        this.#appendBackoff = Math.min(RETRY_MAX, this.#appendBackoff * 2);
        return;
      }
      this.#appendBackoff = RETRY_INITIAL;
      if (batch === this.#unwritten) this.#unwritten = [];
      else this.#pending = [];
      this.#committed += batch.length;
      this.#syncDue = true;
    }
    this.#afterCommit();
  }

  /** The next batch from disk (what is pending appended first), or `[]`. */
  read(maxRecords: number): LogRecord[] {
    if (this.#pending.length > 0) this.commit();
    const batch = this.#buffer.read(maxRecords, DISK_BATCH_BYTES);
    this.#countDamage();
    if (!batch) return [];
    this.#open = true;
    return batch;
  }

  /** The batch read is done with (delivered, handed off or dropped); `false` if none was out. */
  settle(): boolean {
    if (!this.#open) return false;
    this.#open = false;
    try {
      this.#buffer.ack();
    } catch (error) {
      this.#fail("acknowledge in", error);
    }
    return true;
  }

  /** Syncs what was appended since the last sync, unless the policy is `never` (flush, exit). */
  sync(): void {
    if (this.#isClosed() || this.#syncDue === false) return;
    this.#syncDue = false;
    try {
      this.#buffer.sync();
    } catch (error) {
      this.#fail("sync", error);
    }
  }

  /** Stops the timers and gives up what the disk never took; returns how many records. */
  stop(): number {
    clearInterval(this.#timer);
    clearTimeout(this.#appendRetry);
    const lost = this.unsent;
    this.#pending = [];
    this.#unwritten = [];
    return lost;
  }

  /** Closes the buffer; what is undelivered stays on disk for the next start. */
  close(): void {
    const left = this.#buffer.pendingRecords;
    this.#closed = { bytes: this.#buffer.diskBytes, records: left, oldestAge: 0 };
    try {
      this.#buffer.close();
    } catch (error) {
      this.#fail("close", error);
    }
    if (left > 0) {
      this.#log.info(
        `Sink "${this.#id}" keeps ${left} undelivered records in its disk buffer for the next start`,
      );
    }
  }

  /** A background sync is running (the next tick waits for it). */
  #syncing = false;

  readonly #onTick = (): void => {
    if (this.#isClosed() || this.#syncing) return;
    if (this.#syncDue && !this.#committing) {
      this.#syncDue = false;
      this.#syncing = true;
      this.#buffer.syncInBackground().catch((error) => {
        if (!this.#isClosed()) this.#fail("sync", error);
      }).finally(() => this.#syncing = false);
    }
  };

  #fail(what: string, error: unknown): void {
    this.#errors.value++;
    this.#series.errors.value++;
    this.#log.warnOnce(
      `sink:${this.#id}:buffer:${what}`,
      `Cannot ${what} the disk buffer of sink "${this.#id}"`,
      error,
    );
  }

  #countDamage(): void {
    const disk = this.#buffer;
    const series = this.#series;
    series.corrupt.value += disk.corruptFrames - this.#seenCorrupt;
    this.#seenCorrupt = disk.corruptFrames;
    series.aside.value += disk.movedAside.length - this.#seenAside;
    this.#seenAside = disk.movedAside.length;
  }
}

/**
 * A sink's place in the pipeline: its level, bounded queue, batching, retries, fallback, counters.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import type { BufferConfig } from "../config/types.ts";
import type { InternalLog, Sink } from "../plugin/types.ts";
import type { Metrics, Series } from "./metrics.ts";
import type { Target } from "./target.ts";
import type { DiskBufferStatus, SinkStatus } from "./sink_status.ts";
import { DeliveryError } from "../plugin/delivery_error.ts";
import { estimateRecordBytes } from "./record_bytes.ts";
import { JsonFieldsRecord } from "../core/json_fields_record.ts";
import { AckWaiters } from "./ack_waiters.ts";
import { RecordQueue } from "./record_queue.ts";
import { beforeDeadline } from "../core/before_deadline.ts";
import { RETRY_INITIAL, RETRY_MAX } from "./retry.ts";
import { SinkDisk } from "./sink_disk.ts";
import { SinkDrops } from "./sink_drops.ts";
import { WriteTimer } from "./write_latency.ts";
import { sleep } from "../core/sleep.ts";
import { messageOf } from "../core/message_of.ts";

/** Options of a {@linkcode SinkNode}. */
export interface SinkNodeOptions {
  id: string;
  level: number;
  buffer: BufferConfig;
  fallbackAfter: number;
  metrics: Metrics;
  log: InternalLog & { reset(key: string): void };
  /** Delay before a batch is written after its first record arrives. */
  maxWait?: number;
  /** The directory of its disk buffer, with `buffer.disk` set (`<data_dir>/buffers/<id>`). */
  diskDir?: string;
}

/**
 * Sync sinks write once this much is queued, without waiting for the timer. Small batches die
 * young: with 256 KiB batches (~3,300 records surviving a scavenge) V8 grew its young
 * generation to the maximum and peak RSS went from 74 to 131 MiB for 1M records
 * (bench/RESULTS.md), at no gain in throughput. 32 KiB (about 230 records) halves the
 * file sink's stat and write calls against 16 KiB: in-process JSON 1.16x -> 1.23x the
 * write reference (7 alternating runs), peak RSS 74.6 MiB either way; 64 KiB took it to
 * 90.6 MiB.
 */
const SYNC_BATCH_BYTES = 32 * 1024;
/**
 * Queues records for one sink and writes them in batches: synchronously when the sink
 * offers `writeSync` (files, consoles), otherwise with one asynchronous write in flight.
 */
export class SinkNode implements Target, SinkStatus {
  readonly id: string;
  readonly level: number;
  /** Set after construction, once every sink exists. */
  fallback: SinkNode | undefined;

  readonly #sink: Sink;
  readonly #sync: boolean;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #whenFull: BufferConfig["when_full"];
  readonly #fallbackAfter: number;
  readonly #maxWait: number;
  readonly #metrics: Metrics;
  readonly #log: SinkNodeOptions["log"];

  readonly #queue = new RecordQueue();
  /**
   * A failed batch waiting to be written again, ahead of the queue. It is kept apart so the
   * queue keeps its bound while a write is out: a retry never makes room for more.
   */
  #retry: LogRecord[] = [];
  #retryBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | undefined;
  #waiters: (() => void)[] = [];
  #failingSince = 0;
  #backoff = RETRY_INITIAL;
  #lastError = "";
  #closed = false;
  #released = false;

  /** Records accepted into the queue or the disk buffer, ever (acknowledgement positions). */
  #accepted = 0;
  /** Records dropped or handed to the fallback, ever: an acknowledgement fails on any. */
  #losses = 0;
  /** The position of the first record of the batch being written or retried (memory). */
  #batchStart = 0;
  /** Records of the batch being written (memory), not counted in `depth` meanwhile. */
  #inflight = 0;
  readonly #acks = new AckWaiters();
  readonly #disk: SinkDisk | undefined;

  readonly #in: Series;
  readonly #out: Series;
  readonly #errors: Series;
  readonly #drops: SinkDrops;
  readonly #latency: WriteTimer;

  constructor(sink: Sink, options: SinkNodeOptions) {
    this.id = options.id;
    this.level = options.level;
    this.#sink = sink;
    this.#sync = typeof sink.writeSync === "function";
    this.#maxRecords = options.buffer.max_records;
    this.#maxBytes = options.buffer.max_bytes;
    this.#whenFull = options.buffer.when_full;
    this.#fallbackAfter = options.fallbackAfter;
    this.#maxWait = options.maxWait ?? sink.maxWait ?? 0;
    this.#metrics = options.metrics;
    this.#log = options.log;
    const labels = { component: this.id, kind: "sink" };
    const counter = (name: string, help: string) => options.metrics.counter(name, help, labels);
    this.#in = counter("records_in_total", "Records accepted by a component.");
    this.#out = counter("records_out_total", "Records delivered by a component.");
    this.#errors = counter("component_errors_total", "Failed operations of a component.");
    this.#latency = new WriteTimer(options.metrics, this.id);
    this.#drops = new SinkDrops(this.id, options.metrics, this.#log, () => ({
      queued: this.#queue.length,
      maxRecords: this.#maxRecords,
      maxBytes: this.#maxBytes,
      whenFull: this.#whenFull,
      lastError: this.#lastError,
      sync: this.#sync,
    }));
    const disk = options.buffer.disk;
    if (disk) {
      this.#disk = new SinkDisk({
        id: this.id,
        dir: options.diskDir!,
        config: disk,
        maxBytes: this.#maxBytes,
        metrics: options.metrics,
        log: this.#log,
        errors: this.#errors,
        isClosed: () => this.#closed,
        afterCommit: () => {
          this.#settleAcks();
          this.#wake();
          if (this.#writing === undefined && this.#timer === undefined && !this.#closed) {
            this.#schedule(this.#failingSince ? this.#backoff : this.#maxWait);
          }
        },
      });
      if (this.#disk.stored > 0) this.#schedule(0);
    }
  }

  /** The disk buffer's state (after close, what it keeps); `undefined` with a memory buffer. */
  get disk(): DiskBufferStatus | undefined {
    return this.#disk?.status;
  }

  /** The position after the last record accepted: what an acknowledgement waits for. */
  get position(): number {
    return this.#accepted;
  }

  /** Records dropped or handed to the fallback so far (read before pushing what is acknowledged). */
  get losses(): number {
    return this.#losses;
  }

  /**
   * Resolves `true` once every record up to `position` is safe — appended to the disk buffer
   * (and synced with `fsync: always`) for a disk-buffered sink, delivered for the others —
   * and `false` when a record was dropped or handed to the fallback since `losses` was read,
   * or at `deadline` (epoch ms). Conservative: a `false` may cost the sender a duplicate,
   * never a record.
   */
  whenSafe(position: number, losses: number, deadline: number): Promise<boolean> {
    if (this.#losses !== losses) return Promise.resolve(false);
    if (this.#resolved() >= position) return Promise.resolve(true);
    return this.#acks.wait(position, losses, deadline);
  }

  /** How far every record is safe (disk) or settled (memory: delivered, dropped or handed off). */
  #resolved(): number {
    if (this.#disk) return this.#disk.committed;
    if (this.#inflight > 0 || this.#retry.length > 0) return this.#batchStart;
    return this.#accepted - this.#queue.length;
  }

  #settleAcks(): void {
    this.#acks.settle(this.#resolved(), this.#losses);
  }

  /** Records waiting in the queue (a batch waiting to be retried included). */
  get depth(): number {
    if (this.#disk) return this.#disk.depth;
    return this.#queue.length + this.#retry.length;
  }

  /** Estimated bytes waiting in the queue (a batch waiting to be retried included). */
  get queuedBytes(): number {
    if (this.#disk) return this.#disk.queuedBytes;
    return this.#queue.bytes + this.#retryBytes;
  }

  /** Whether the queue is at its bound. */
  get saturated(): boolean {
    if (this.#disk) return this.#disk.saturated;
    return this.#queue.length >= this.#maxRecords || this.#queue.bytes >= this.#maxBytes;
  }

  /** Why the sink is not healthy, or `undefined` when it is. */
  get problem(): string | undefined {
    if (this.#failingSince) {
      return `failing since ${new Date(this.#failingSince).toISOString()}: ${this.#lastError}`;
    }
    if (this.#disk?.saturated) return this.#disk.problem;
    if (this.saturated) {
      return `queue full (${this.#queue.length} records, ${this.#queue.bytes} bytes)`;
    }
    return undefined;
  }

  /** Enqueues a record that passed the sink's level; applies `when_full` to local records. */
  push(record: LogRecord, local: boolean): void {
    if (record.level < this.level) return;
    this.#in.value++;
    if (this.#closed) {
      this.#drop("closed", 1, !local);
      return;
    }
    if (this.#disk) {
      if (this.#disk.saturated && (local || this.#whenFull === "drop_newest" || this.#released)) {
        // A log call cannot wait, and drop_newest does not: counted, said once.
        this.#drop("buffer_full", 1, !local, true);
        this.#disk.warnFull();
        return;
      }
      this.#accepted++;
      this.#disk.add(record);
      return;
    }
    if (this.#queue.length >= this.#maxRecords || this.#queue.bytes >= this.#maxBytes) {
      if (local && !this.#makeRoom(record)) return;
    }
    this.#accepted++;
    this.#queue.push(record);
    if (this.#sync) {
      if (this.#queue.ownBytes >= SYNC_BATCH_BYTES && this.#failingSince === 0) this.#drainSync();
      else if (this.#timer === undefined) this.#schedule(this.#maxWait);
    } else if (this.#writing === undefined) {
      // A half-full queue does not wait for max_wait: waiting longer would only end in drops.
      if (this.#queue.length >= this.#maxRecords >> 1 && this.#failingSince === 0) {
        this.#clearTimer();
        this.#startAsync();
      } else if (this.#timer === undefined) this.#schedule(this.#maxWait);
    }
  }

  /** Resolves when the queue is below its bound (the back-pressure sources await). */
  waitForSpace(): Promise<void> {
    if (!this.saturated || this.#closed || this.#released) return Promise.resolve();
    // A full disk buffer with drop_newest drops what sources send (counted), never holds them.
    if (this.#disk && this.#whenFull === "drop_newest") return Promise.resolve();
    // A retry scheduled before anyone waited may not hold the process; now someone does.
    if (this.#timer !== undefined) Deno.refTimer(this.#timer as unknown as number);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Stops making sources wait (shutdown has begun): a source waiting for space in a sink that
   * keeps failing could otherwise never finish, and its dispose would hold up the shutdown.
   * What sources still emit is queued; `close()` delivers it or counts it as dropped.
   */
  release(): void {
    this.#released = true;
    this.#wake();
  }

  /**
   * Writes everything queued, retrying until `deadline` (epoch ms). Resolves `true` when the
   * queue is empty and the sink flushed.
   */
  async flush(deadline: number): Promise<boolean> {
    let tried = false;
    this.#disk?.commit();
    while (Date.now() < deadline) {
      if (this.#writing) {
        await beforeDeadline(this.#writing, deadline, undefined);
        continue;
      }
      if (this.depth === 0) break;
      if (this.#disk && !this.#hasWork()) {
        // Records the disk refused: wait for the append retry, not in a tight loop.
        await sleep(Math.min(RETRY_INITIAL, Math.max(0, deadline - Date.now())));
        continue;
      }
      if (tried && this.#failingSince) {
        // The last attempt failed: wait the backoff (an async write has settled by now, so
        // retrying at once would hammer the peer in a tight loop until the deadline).
        tried = false;
        await sleep(Math.min(this.#backoff, Math.max(0, deadline - Date.now())));
        continue;
      }
      tried = true;
      // Cleared only when flush() writes itself: a flush out of time leaves the timer running.
      this.#clearTimer();
      if (this.#sync) this.#drainSync();
      else this.#startAsync();
    }
    const done = this.depth === 0 && this.#writing === undefined;
    if (this.#disk && !this.#closed) this.#disk.sync();
    try {
      await this.#sink.flush?.();
    } catch (error) {
      this.#errors.value++;
      this.#log.warnOnce(`sink:${this.id}:flush`, `Cannot flush sink "${this.id}"`, error);
    }
    // A write still out past the deadline (the queue empty) is not done either.
    return done;
  }

  /** Synchronous last-chance drain at process exit (sync-capable sinks only). */
  drainAtExit(): number {
    this.#clearTimer();
    if (this.#disk) {
      // What is on disk is not lost: the next start delivers it.
      this.#disk.commit();
      if (this.#sync && !this.#failingSince) this.#drainSync();
      this.#disk.sync();
      return this.#disk.unsent;
    }
    if (this.#sync && !this.#failingSince) this.#drainSync();
    return this.depth;
  }

  /** Whether there is something to write now (a disk buffer's refused frame is not). */
  #hasWork(): boolean {
    if (!this.#disk) return this.depth > 0;
    return this.#retry.length > 0 || this.#disk.readable;
  }

  /**
   * Shuts a disk-buffered sink: delivers what it can until `deadline` unless it is failing,
   * then closes the buffer. Undelivered records stay on disk for the next start; only records
   * the disk never took are counted as dropped.
   */
  async #closeDisk(deadline: number): Promise<void> {
    const disk = this.#disk!;
    disk.commit();
    if (!this.#failingSince) await this.flush(deadline);
    else if (this.#writing) await beforeDeadline(this.#writing, deadline, undefined);
    this.#closed = true;
    this.#clearTimer();
    const lost = disk.stop();
    if (lost > 0) {
      this.#log.warnOnce(
        `sink:${this.id}:shutdown`,
        `Sink "${this.id}" shut down with ${lost} records its disk buffer could not take`,
      );
      this.#drop("disk_unavailable", lost, true, true);
    }
    disk.close();
    this.#wake();
    this.#settleAcks();
    this.#acks.failAll();
    await this.#dispose();
  }

  /** Flushes until `deadline`, counts what is left as dropped, and disposes the sink. */
  async close(deadline: number): Promise<void> {
    if (this.#disk) return await this.#closeDisk(deadline);
    await this.flush(deadline);
    this.#closed = true;
    this.#clearTimer();
    if (this.depth > 0) {
      const left = this.depth;
      this.#log.warnOnce(
        `sink:${this.id}:shutdown`,
        `Sink "${this.id}" shut down with ${left} undelivered records`,
      );
      this.#drop("shutdown_timeout", left, true, true);
      this.#queue.take();
      this.#retry = [];
      this.#retryBytes = 0;
    }
    this.#wake();
    await this.#dispose();
  }

  async #dispose(): Promise<void> {
    try {
      await this.#sink[Symbol.asyncDispose]();
    } catch (error) {
      this.#errors.value++;
      this.#log.warnOnce(`sink:${this.id}:close`, `Cannot close sink "${this.id}"`, error);
    }
  }

  #makeRoom(record: LogRecord): boolean {
    const failing = this.#failingSince !== 0;
    if (this.#whenFull === "block" && this.#sync && !failing) {
      this.#drainSync();
      return true;
    }
    if (this.#whenFull === "drop_oldest") {
      this.#drop("queue_full", 1); // first: its notice names the bound the queue is at
      this.#drop("queue_full", Math.max(0, this.#queue.dropOldest(this.#maxBytes, record) - 1));
      return true;
    }
    // The record refused here is a log call's, never a source's: no acknowledgement waits on it.
    if (this.fallback && failing) {
      this.#toFallback([record], false);
      return false;
    }
    this.#drop(failing ? "sink_failing" : "queue_full", 1, false);
    return false;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(this.#onTimer, delay);
    // A retry of a failing sink must not keep the process alive forever (an unreachable
    // peer would otherwise hold every program that logs to it); what it still holds at exit
    // is reported by the exit handler. flush() and shutdown() wait with their own timers,
    // and a source waiting for room is work in progress, so its retries keep the process up.
    if (this.#failingSince !== 0 && this.#waiters.length === 0) {
      Deno.unrefTimer(this.#timer as unknown as number);
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#sync) this.#drainSync();
    else this.#startAsync();
  };

  /** The batch to write next: a failed batch first (the queue stays full), else the queue. */
  #take(): LogRecord[] {
    this.#latency.start();
    if (this.#retry.length > 0) {
      const retry = this.#retry;
      this.#retry = [];
      this.#retryBytes = 0;
      this.#inflight = retry.length;
      return retry;
    }
    if (this.#disk) {
      if (this.#closed) return [];
      return this.#disk.read(this.#maxRecords);
    }
    const batch = this.#queue.take();
    this.#batchStart = this.#accepted - batch.length;
    this.#inflight = batch.length;
    this.#wake();
    return batch;
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  #drainSync(): void {
    while (this.#hasWork()) {
      const batch = this.#take();
      if (batch.length === 0) break;
      try {
        this.#sink.writeSync!(batch);
        this.#delivered(batch);
      } catch (error) {
        this.#failed(batch, error);
        return;
      }
    }
  }

  #startAsync(): void {
    if (this.#writing || !this.#hasWork()) return;
    this.#writing = this.#drainAsync().finally(() => {
      this.#writing = undefined;
      if (this.#hasWork() && this.#timer === undefined && !this.#closed) {
        const halfFull = this.#queue.length >= this.#maxRecords >> 1;
        this.#schedule(this.#failingSince ? this.#backoff : halfFull ? 0 : this.#maxWait);
      }
    });
  }

  async #drainAsync(): Promise<void> {
    while (this.#hasWork()) {
      const batch = this.#take();
      if (batch.length === 0) break;
      try {
        await this.#sink.write(batch);
        this.#delivered(batch);
      } catch (error) {
        this.#failed(batch, error);
        return;
      }
    }
  }

  /** Counts the records of a written batch as delivered, less those the sink skipped. */
  #countOut(written: readonly LogRecord[]): void {
    const skipped = this.#drops.skippedIn(written);
    this.#losses += skipped;
    this.#out.value += written.length - skipped;
  }

  #delivered(batch: readonly LogRecord[]): void {
    this.#latency.stop();
    this.#countOut(batch);
    this.#inflight = 0;
    this.#settleDisk();
    this.#settleAcks();
    if (this.#failingSince) {
      this.#failingSince = 0;
      this.#backoff = RETRY_INITIAL;
      this.#log.reset(`sink:${this.id}:write`);
      this.#log.info(`Sink "${this.id}" recovered`);
    }
  }

  /** A batch read from the disk buffer is done with (delivered, handed off or dropped): step 6. */
  #settleDisk(): void {
    if (!this.#disk || this.#retry.length > 0 || this.#closed) return;
    if (this.#disk.settle()) this.#wake();
  }

  #failed(whole: LogRecord[], error: unknown): void {
    this.#inflight = 0;
    try {
      this.#failedBatch(whole, error);
    } finally {
      this.#settleDisk();
      this.#settleAcks();
    }
  }

  #failedBatch(whole: LogRecord[], error: unknown): void {
    this.#errors.value++;
    const batch = DeliveryError.undeliveredOf(error, whole);
    const undelivered = new Set(batch);
    this.#countOut(whole.filter((record) => !undelivered.has(record)));
    this.#lastError = messageOf(error);
    const now = Date.now();
    if (!this.#failingSince) this.#failingSince = now;
    this.#log.warnOnce(`sink:${this.id}:write`, `Cannot write to sink "${this.id}"`, error);
    if (this.#closed) {
      // The write was still out when shutdown's deadline passed: nothing will retry it (a
      // disk buffer keeps it for the next start).
      if (!this.#disk) this.#drop("shutdown_timeout", batch.length);
      return;
    }
    if (error instanceof DeliveryError && !error.retryable) {
      if (this.fallback) this.#toFallback(batch);
      else this.#drop(error.reason, batch.length);
      return;
    }
    this.#metrics.counter("sink_retries_total", "Batches a sink will retry.", {
      component: this.id,
    }).inc();
    if (this.fallback && now - this.#failingSince >= this.#fallbackAfter) {
      this.#toFallback(batch);
    } else {
      // Retry the batch before the queue, keeping order. Putting it back into the queue would
      // let the queue grow by one bound per failed attempt: it refills while a write is out.
      this.#retry = this.#retry.length > 0 ? batch.concat(this.#retry) : batch;
      for (const r of batch) this.#retryBytes += estimateRecordBytes(r);
    }
    this.#backoff = Math.min(RETRY_MAX, this.#backoff * 2);
    this.#clearTimer();
    if (!this.#closed) this.#schedule(this.#backoff);
  }

  #toFallback(batch: readonly LogRecord[], acknowledged = true): void {
    const fallback = this.fallback!;
    if (acknowledged) this.#losses += batch.length;
    this.#metrics.counter("records_to_fallback_total", "Records handed to a fallback sink.", {
      component: this.id,
      fallback: fallback.id,
    }).inc(batch.length);
    // The hand-off cannot wait for space: the fallback applies its own when_full, so its
    // queue stays bounded (and every record it cannot take is counted) when it fails too.
    for (const record of batch) fallback.push(JsonFieldsRecord.settle(record), true);
    // Removed from this disk buffer only once in the fallback's (when it has one).
    fallback.#disk?.commit();
  }

  /** Counts a drop (said once per reason unless `said`); `acknowledged` unless a log call's. */
  #drop(reason: string, n: number, acknowledged = true, said = false): void {
    if (acknowledged) this.#losses += n;
    this.#drops.count(reason, n, !said);
  }
}

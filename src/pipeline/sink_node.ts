/**
 * A sink's place in the pipeline: its level, its bounded queue, its batching, its retries
 * and fallback, and its counters.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import type { BufferConfig } from "../config/types.ts";
import type { InternalLog, Sink } from "../plugin/types.ts";
import type { Metrics, Series } from "./metrics.ts";
import { DeliveryError } from "../plugin/delivery_error.ts";
import { estimateRecordBytes } from "./record_bytes.ts";

/** Anything records can be pushed into: a sink node or a processor node. */
export interface Target {
  /** Routes one record. `local` marks in-process log calls, which must never wait. */
  push(record: LogRecord, local: boolean): void;
}

/** The part of `batch` an error says was not delivered (the whole batch unless it says). */
function undeliveredOf(error: unknown, batch: LogRecord[]): LogRecord[] {
  const records = (error as { records?: unknown } | null)?.records;
  if (!Array.isArray(records)) return batch;
  const failed = new Set(records);
  return batch.filter((record) => failed.has(record));
}

/** What the pipeline reports about a sink (for `/ready`, `/metrics` and tests). */
export interface SinkStatus {
  /** The sink's id. */
  readonly id: string;
  /** Its minimum level. */
  readonly level: number;
  /** Records waiting in its queue. */
  readonly depth: number;
  /** Estimated bytes waiting in its queue. */
  readonly queuedBytes: number;
  /** Whether the queue is at its bound. */
  readonly saturated: boolean;
  /** Why it is unhealthy, or `undefined`. */
  readonly problem: string | undefined;
}

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
}

const RETRY_INITIAL = 100;
const RETRY_MAX = 5_000;
/**
 * Sync sinks write once this much is queued, without waiting for the timer. Small batches die
 * young: with 256 KiB batches (~3,300 records surviving a scavenge) V8 grew its young
 * generation to the maximum and peak RSS went from 74 to 131 MiB for 1M records
 * (bench/RESULTS.md), at no gain in throughput.
 */
const SYNC_BATCH_BYTES = 16 * 1024;

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

  #queue: LogRecord[] = [];
  #bytes = 0;
  /**
   * What each queued record was charged: a caller may change a record's fields after logging
   * it, so dropping the oldest subtracts what was added, not a new estimate.
   */
  #charges: number[] = [];
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

  readonly #in: Series;
  readonly #out: Series;
  readonly #errors: Series;

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
    this.#in = options.metrics.counter(
      "records_in_total",
      "Records accepted by a component.",
      labels,
    );
    this.#out = options.metrics.counter(
      "records_out_total",
      "Records delivered by a component.",
      labels,
    );
    this.#errors = options.metrics.counter(
      "component_errors_total",
      "Failed operations of a component.",
      labels,
    );
  }

  /** Records waiting in the queue (a batch waiting to be retried included). */
  get depth(): number {
    return this.#queue.length + this.#retry.length;
  }

  /** Estimated bytes waiting in the queue (a batch waiting to be retried included). */
  get queuedBytes(): number {
    return this.#bytes + this.#retryBytes;
  }

  /** Whether the queue is at its bound. */
  get saturated(): boolean {
    return this.#queue.length >= this.#maxRecords || this.#bytes >= this.#maxBytes;
  }

  /** Why the sink is not healthy, or `undefined` when it is. */
  get problem(): string | undefined {
    if (this.#failingSince) {
      return `failing since ${new Date(this.#failingSince).toISOString()}: ${this.#lastError}`;
    }
    if (this.saturated) return `queue full (${this.#queue.length} records, ${this.#bytes} bytes)`;
    return undefined;
  }

  /** Enqueues a record that passed the sink's level; applies `when_full` to local records. */
  push(record: LogRecord, local: boolean): void {
    if (record.level < this.level) return;
    this.#in.value++;
    if (this.#closed) {
      this.#drop("closed", 1);
      return;
    }
    if (this.#queue.length >= this.#maxRecords || this.#bytes >= this.#maxBytes) {
      if (local && !this.#makeRoom(record)) return;
    }
    const charge = estimateRecordBytes(record);
    this.#queue.push(record);
    this.#charges.push(charge);
    this.#bytes += charge;
    if (this.#sync) {
      if (this.#bytes >= SYNC_BATCH_BYTES && this.#failingSince === 0) this.#drainSync();
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
    while (Date.now() < deadline) {
      if (this.#writing) {
        await raceDeadline(this.#writing, deadline);
        continue;
      }
      if (this.depth === 0) break;
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
    try {
      await this.#sink.flush?.();
    } catch (error) {
      this.#errors.value++;
      this.#log.warnOnce(`sink:${this.id}:flush`, `Cannot flush sink "${this.id}"`, error);
    }
    if (!done && this.depth === 0) {
      // A write is still in flight past the deadline: wait for its outcome anyway is not allowed,
      // so report honestly.
      return false;
    }
    return done;
  }

  /** Synchronous last-chance drain at process exit (sync-capable sinks only). */
  drainAtExit(): number {
    this.#clearTimer();
    if (this.#sync && !this.#failingSince) this.#drainSync();
    return this.depth;
  }

  /** Flushes until `deadline`, counts what is left as dropped, and disposes the sink. */
  async close(deadline: number): Promise<void> {
    await this.flush(deadline);
    this.#closed = true;
    this.#clearTimer();
    if (this.depth > 0) {
      const left = this.depth;
      this.#log.warnOnce(
        `sink:${this.id}:shutdown`,
        `Sink "${this.id}" shut down with ${left} undelivered records`,
      );
      this.#drop("shutdown_timeout", left);
      this.#queue = [];
      this.#charges = [];
      this.#bytes = 0;
      this.#retry = [];
      this.#retryBytes = 0;
    }
    this.#wake();
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
      if (this.#queue.shift()) this.#bytes -= this.#charges.shift()!;
      this.#drop("queue_full", 1);
      return true;
    }
    if (this.fallback && failing) {
      this.#toFallback([record]);
      return false;
    }
    this.#drop(failing ? "sink_failing" : "queue_full", 1);
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
    if (this.#retry.length > 0) {
      const retry = this.#retry;
      this.#retry = [];
      this.#retryBytes = 0;
      return retry;
    }
    const batch = this.#queue;
    this.#queue = [];
    this.#charges = [];
    this.#bytes = 0;
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
    while (this.depth > 0) {
      const batch = this.#take();
      try {
        this.#sink.writeSync!(batch);
        this.#delivered(batch.length);
      } catch (error) {
        this.#failed(batch, error);
        return;
      }
    }
  }

  #startAsync(): void {
    if (this.#writing || this.depth === 0) return;
    this.#writing = this.#drainAsync().finally(() => {
      this.#writing = undefined;
      if (this.depth > 0 && this.#timer === undefined && !this.#closed) {
        const halfFull = this.#queue.length >= this.#maxRecords >> 1;
        this.#schedule(this.#failingSince ? this.#backoff : halfFull ? 0 : this.#maxWait);
      }
    });
  }

  async #drainAsync(): Promise<void> {
    while (this.depth > 0) {
      const batch = this.#take();
      try {
        await this.#sink.write(batch);
        this.#delivered(batch.length);
      } catch (error) {
        this.#failed(batch, error);
        return;
      }
    }
  }

  #delivered(n: number): void {
    this.#out.value += n;
    if (this.#failingSince) {
      this.#failingSince = 0;
      this.#backoff = RETRY_INITIAL;
      this.#log.reset(`sink:${this.id}:write`);
      this.#log.info(`Sink "${this.id}" recovered`);
    }
  }

  #failed(whole: LogRecord[], error: unknown): void {
    this.#errors.value++;
    const batch = undeliveredOf(error, whole);
    this.#out.value += whole.length - batch.length;
    this.#lastError = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if (!this.#failingSince) this.#failingSince = now;
    this.#log.warnOnce(`sink:${this.id}:write`, `Cannot write to sink "${this.id}"`, error);
    if (this.#closed) {
      // The write was still out when shutdown's deadline passed: nothing will retry it.
      this.#drop("shutdown_timeout", batch.length);
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

  #toFallback(batch: readonly LogRecord[]): void {
    const fallback = this.fallback!;
    this.#metrics.counter("records_to_fallback_total", "Records handed to a fallback sink.", {
      component: this.id,
      fallback: fallback.id,
    }).inc(batch.length);
    // The hand-off cannot wait for space: the fallback applies its own when_full, so its
    // queue stays bounded (and every record it cannot take is counted) when it fails too.
    for (const record of batch) fallback.push(record, true);
  }

  #drop(reason: string, n: number): void {
    this.#metrics.counter("records_dropped_total", "Records dropped, by component and reason.", {
      component: this.id,
      reason,
    }).inc(n);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function raceDeadline(promise: Promise<void>, deadline: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))),
  ]);
  clearTimeout(timer);
}

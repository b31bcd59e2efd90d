/**
 * A sink's drops: counted by reason in `records_dropped_total`, the first of each reason said
 * on stderr, and the records the sink itself skipped while writing.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { formatFailures } from "../plugin/format_error_reporter.ts";
import type { InternalLog } from "../plugin/types.ts";
import type { Metrics, Series } from "./metrics.ts";

/** What a sink's first drop of a reason is explained by. */
export interface DropState {
  /** Records in its queue. */
  queued: number;
  /** Its `buffer.max_records`. */
  maxRecords: number;
  /** Its `buffer.max_bytes`. */
  maxBytes: number;
  /** Its `buffer.when_full`. */
  whenFull: string;
  /** Its last write error's message ("" when none). */
  lastError: string;
  /** Whether its sink has `writeSync`, the only way a log call can wait for room. */
  sync: boolean;
}

/**
 * Counts one sink's drops. A program that drops in a loop hears it once per reason, with why;
 * flush() and shutdown() say the totals (the pipeline's part).
 *
 * @example Count drops and say the first
 * ```ts
 * import { SinkDrops } from "./sink_drops.ts";
 * import { Metrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const metrics = new Metrics();
 * const said: string[] = [];
 * const log = { warnOnce: (_key: string, message: string) => void said.push(message), info() {} };
 * const state = () => ({ queued: 10, maxRecords: 10, maxBytes: 1e6, whenFull: "drop_newest", lastError: "", sync: true });
 * const drops = new SinkDrops("out", metrics, log, state);
 * drops.count("queue_full", 1, true);
 * drops.count("queue_full", 2, true);
 * assert.equal(metrics.sum("records_dropped_total", { reason: "queue_full" }), 3);
 * assert.deepEqual(said, [
 *   'Sink "out" is dropping records (queue_full: its queue is full at max_records 10, when_full ' +
 *   'drop_newest); each is counted in sluice_records_dropped_total{component="out",reason="queue_full"}',
 * ]);
 * ```
 */
export class SinkDrops {
  readonly #id: string;
  readonly #metrics: Metrics;
  readonly #log: InternalLog;
  readonly #series = new Map<string, Series>();
  /** What the sink's formatter failed on (the format error reporter counts it). */
  readonly #skipped: Series;

  readonly #state: () => DropState;

  /** Drops of sink `id`, counted in `metrics`, said through `log` with why from `state()`. */
  constructor(id: string, metrics: Metrics, log: InternalLog, state: () => DropState) {
    this.#id = id;
    this.#state = state;
    this.#metrics = metrics;
    this.#log = log;
    this.#skipped = this.#seriesOf("format_error");
  }

  /**
   * Counts `n` drops of `reason`; the first of each reason is said with why, unless the
   * caller says it itself with its count (`say` false).
   */
  count(reason: string, n: number, say: boolean): void {
    const series = this.#seriesOf(reason);
    const first = series.value === 0 && !this.#said.has(reason);
    series.value += n;
    if (!first || !say) return;
    this.#said.add(reason);
    this.#log.warnOnce(
      `sink:${this.#id}:drop:${reason}`,
      `Sink "${this.#id}" is dropping records (${reason}: ${
        whyDropped(reason, this.#state())
      }); each is counted in ` +
        `sluice_records_dropped_total{component="${this.#id}",reason="${reason}"}`,
    );
  }

  /** How many of `records` (a batch the sink wrote) its formatter failed on and skipped. */
  skippedIn(records: readonly LogRecord[]): number {
    // Most sinks never fail to format: then no batch is looked through.
    if (this.#skipped.value === 0) return 0;
    const failed = formatFailures.get(this.#id);
    let skipped = 0;
    if (failed) { for (const record of records) if (failed.has(record)) skipped++; }
    return skipped;
  }

  readonly #said = new Set<string>();

  #seriesOf(reason: string): Series {
    let series = this.#series.get(reason);
    if (series === undefined) {
      series = this.#metrics.counter(
        "records_dropped_total",
        "Records dropped, by component and reason.",
        { component: this.#id, reason },
      );
      this.#series.set(reason, series);
    }
    return series;
  }
}

function whyDropped(reason: string, state: DropState): string {
  switch (reason) {
    case "queue_full": {
      const bound = state.queued >= state.maxRecords
        ? `max_records ${state.maxRecords}`
        : `max_bytes ${state.maxBytes}`;
      // block makes a log call write synchronously; a sink that only writes asynchronously
      // cannot, so what a log call adds past the bound is dropped (sources still wait).
      const cannotBlock = state.whenFull === "block" && !state.sync
        ? " (block cannot hold a log call: this sink has no writeSync; sources still wait)"
        : "";
      return `its queue is full at ${bound}, when_full ${state.whenFull}${cannotBlock}`;
    }
    case "sink_failing":
      return `it is failing (${state.lastError}) and its queue is full`;
    case "closed":
      return "it is shut down";
    case "shutdown_timeout":
      return "shutdown's deadline passed before they were written";
    default:
      return state.lastError ? `the sink refused them: ${state.lastError}` : "see above";
  }
}

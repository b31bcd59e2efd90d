/**
 * The histogram of a sink's write latency, `sluice_sink_write_seconds{component}`.
 *
 * @module
 */

import type { Histogram, Metrics } from "./metrics.ts";

/**
 * Upper bounds in seconds. A file sink writes a 32 KiB batch in tens of microseconds, a network
 * sink's request takes milliseconds to seconds: the bounds span 100 µs to 10 s.
 */
const BOUNDS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
] as const;

/**
 * Times a sink's writes into its histogram `sluice_sink_write_seconds{component}`: `start()` as
 * a batch is taken, `stop()` once the sink delivered it (from the call to `write` or
 * `writeSync` until it returned or resolved). A failed write is not observed.
 *
 * @example One batch written
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * import { WriteTimer } from "./write_latency.ts";
 * import assert from "node:assert/strict";
 * const metrics = new Metrics();
 * const timer = new WriteTimer(metrics, "file");
 * timer.start();
 * timer.stop();
 * const text = metrics.render();
 * assert.match(text, /^sluice_sink_write_seconds_bucket\{component="file",le="\+Inf"\} 1$/m);
 * assert.match(text, /^sluice_sink_write_seconds_count\{component="file"\} 1$/m);
 * ```
 */
export class WriteTimer {
  readonly #histogram: Histogram;
  #started = 0;

  /** Creates the histogram of the sink `id` in `metrics`. */
  constructor(metrics: Metrics, id: string) {
    this.#histogram = metrics.histogram(
      "sink_write_seconds",
      "Seconds a sink took to write a batch it delivered.",
      BOUNDS,
      { component: id },
    );
  }

  /** A batch is about to be written. */
  start(): void {
    this.#started = performance.now();
  }

  /** The batch started last was delivered. */
  stop(): void {
    this.#histogram.observe((performance.now() - this.#started) / 1000);
  }
}

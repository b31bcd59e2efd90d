/**
 * The metrics registry behind `/metrics`: counters and gauges with labels, rendered in
 * Prometheus text format. Hot paths hold a series object and bump `value` directly.
 *
 * @module
 */

import type { Counter } from "../plugin/types.ts";

/** One labelled series. */
export class Series implements Counter {
  /** The current value; hot paths add to it directly. */
  value = 0;
  /** Creates a series with its labels. */
  constructor(readonly labels: Readonly<Record<string, string>>) {}
  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.value += n;
  }
}

/**
 * One labelled histogram series: counts of observations per bucket, their sum and their count,
 * rendered as Prometheus' cumulative `_bucket{le}`, `_sum` and `_count`.
 *
 * @example Observe and render
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const metrics = new Metrics();
 * const h = metrics.histogram("wait_seconds", "Seconds waited.", [0.1, 1], { component: "a" });
 * h.observe(0.05);
 * h.observe(0.5);
 * h.observe(5);
 * const text = metrics.render();
 * assert.match(text, /^sluice_wait_seconds_bucket\{component="a",le="0.1"\} 1$/m);
 * assert.match(text, /^sluice_wait_seconds_bucket\{component="a",le="1"\} 2$/m);
 * assert.match(text, /^sluice_wait_seconds_bucket\{component="a",le="\+Inf"\} 3$/m);
 * assert.match(text, /^sluice_wait_seconds_count\{component="a"\} 3$/m);
 * ```
 */
export class Histogram {
  /** Observations at or below each bound of `bounds` (not yet cumulative). */
  readonly counts: number[];
  /** The sum of every observation. */
  sum = 0;
  /** How many observations. */
  count = 0;
  /** Creates a series with its labels and its upper bounds, ascending. */
  constructor(
    readonly labels: Readonly<Record<string, string>>,
    readonly bounds: readonly number[],
  ) {
    this.counts = bounds.map(() => 0);
  }
  /** Records one observation. */
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const i = this.bounds.findIndex((bound) => value <= bound);
    if (i >= 0) this.counts[i]!++;
  }
}

interface Family {
  help: string;
  type: "counter" | "gauge" | "histogram";
  series: Map<string, Series>;
  histograms?: Map<string, Histogram>;
  read?: () => Iterable<[Record<string, string>, number]>;
}

/**
 * A set of metric families, all prefixed `sluice_`.
 *
 * @example Count and render
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const metrics = new Metrics();
 * metrics.counter("records_in_total", "Records accepted.", { component: "app" }).inc(3);
 * assert.ok(metrics.render().includes('sluice_records_in_total{component="app"} 3'));
 * ```
 */
export class Metrics {
  readonly #families = new Map<string, Family>();

  /** Returns the counter series `sluice_<name>{labels}`, creating it at 0. */
  counter(name: string, help: string, labels: Record<string, string> = {}): Series {
    return this.#series(name, help, "counter", labels);
  }

  /** Returns a gauge series that callers set through `value`. */
  gauge(name: string, help: string, labels: Record<string, string> = {}): Series {
    return this.#series(name, help, "gauge", labels);
  }

  /**
   * Returns the histogram series `sluice_<name>{labels}` with upper `bounds` (ascending; `+Inf`
   * is implied), creating it empty.
   */
  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    labels: Record<string, string> = {},
  ): Histogram {
    let family = this.#families.get(name);
    if (!family) {
      family = { help, type: "histogram", series: new Map(), histograms: new Map() };
      this.#families.set(name, family);
    }
    const key = labelKey(labels);
    let histogram = family.histograms?.get(key);
    if (!histogram) {
      histogram = new Histogram({ ...labels }, bounds);
      family.histograms?.set(key, histogram);
    }
    return histogram;
  }

  /** Registers a gauge family whose series are read at render time. */
  gaugeFn(
    name: string,
    help: string,
    read: () => Iterable<[Record<string, string>, number]>,
  ): void {
    this.#families.set(name, { help, type: "gauge", series: new Map(), read });
  }

  /** The sum of a family's series whose labels include `match`. */
  sum(name: string, match: Record<string, string> = {}): number {
    let total = 0;
    for (const series of this.#families.get(name)?.series.values() ?? []) {
      if (Object.entries(match).every(([k, v]) => series.labels[k] === v)) total += series.value;
    }
    return total;
  }

  /** Every series of a family. */
  series(name: string): Series[] {
    return [...(this.#families.get(name)?.series.values() ?? [])];
  }

  /** Prometheus text exposition format, version 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      const full = `sluice_${name}`;
      lines.push(`# HELP ${full} ${family.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      lines.push(`# TYPE ${full} ${family.type}`);
      const rows: [Readonly<Record<string, string>>, number][] = family.read
        ? [...family.read()]
        : [...family.series.values()].map((s) => [s.labels, s.value]);
      for (const [labels, value] of rows) {
        lines.push(`${full}${renderLabels(labels)} ${formatValue(value)}`);
      }
      for (const h of family.histograms?.values() ?? []) {
        let cumulative = 0;
        h.bounds.forEach((bound, i) => {
          cumulative += h.counts[i]!;
          const le = renderLabels({ ...h.labels, le: formatValue(bound) });
          lines.push(`${full}_bucket${le} ${cumulative}`);
        });
        lines.push(`${full}_bucket${renderLabels({ ...h.labels, le: "+Inf" })} ${h.count}`);
        lines.push(`${full}_sum${renderLabels(h.labels)} ${formatValue(h.sum)}`);
        lines.push(`${full}_count${renderLabels(h.labels)} ${h.count}`);
      }
    }
    return lines.join("\n") + "\n";
  }

  #series(
    name: string,
    help: string,
    type: "counter" | "gauge",
    labels: Record<string, string>,
  ): Series {
    let family = this.#families.get(name);
    if (!family) {
      family = { help, type, series: new Map() };
      this.#families.set(name, family);
    }
    const key = labelKey(labels);
    let series = family.series.get(key);
    if (!series) {
      series = new Series({ ...labels });
      family.series.set(key, series);
    }
    return series;
  }
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1));
}

function renderLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return "{" +
    entries.map(([k, v]) =>
      `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`
    ).join(",") + "}";
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

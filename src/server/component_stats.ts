/**
 * What `sluice top` and the dashboard show of each component: its record counters, its queue
 * and its health, with rates between two snapshots.
 *
 * @module
 */

import type { Pipeline } from "../pipeline/pipeline.ts";

/** What {@linkcode componentStats} reads of a pipeline. */
export type ComponentStatsSource = Pick<Pipeline, "config" | "metrics" | "sinks" | "health">;

/** One component's counters at one moment. */
export interface ComponentStats {
  /** The component's id. */
  id: string;
  /** Its kind. */
  kind: "source" | "processor" | "sink";
  /** `sluice_records_in_total`: records it accepted. */
  records_in: number;
  /** `sluice_records_out_total`: records it passed on (a sink: delivered). */
  records_out: number;
  /** `sluice_records_dropped_total`, every reason. */
  records_dropped: number;
  /** `sluice_records_rejected_total` (sources) and `sluice_records_filtered_total` (processors). */
  records_rejected: number;
  /** `sluice_component_errors_total`. */
  errors: number;
  /** Records per second in, out and dropped since the previous snapshot (absent in the first). */
  in_per_sec?: number;
  /** See `in_per_sec`. */
  out_per_sec?: number;
  /** See `in_per_sec`. */
  dropped_per_sec?: number;
  /** A sink's queued records (its disk buffer's, with one). */
  queue_depth?: number;
  /** A sink's queued bytes (estimated). */
  queue_bytes?: number;
  /** A sink's records in its disk buffer, with one. */
  buffer_records?: number;
  /** A sink's problem (failing, queue full), as `/ready` says it; absent when healthy. */
  problem?: string;
}

/**
 * A snapshot of every component, in config order (sources, processors, sinks). Pass the
 * previous snapshot and its time to get per-second rates.
 *
 * @example Counters of a fresh pipeline
 * ```ts
 * import assert from "node:assert/strict";
 * import { componentStats } from "./component_stats.ts";
 * import { loadConfig, Pipeline } from "../../mod.ts";
 * const { config, formatters } = await loadConfig({ sinks: { mem: { type: "memory" } } });
 * await using pipeline = await Pipeline.create(config, { formatters });
 * const [mem] = componentStats(pipeline);
 * assert.equal(mem?.id, "mem");
 * assert.equal(mem?.queue_depth, 0);
 * ```
 */
export function componentStats(
  pipeline: ComponentStatsSource,
  previous?: { at: number; now: number; components: readonly ComponentStats[] },
): ComponentStats[] {
  const metrics = pipeline.metrics;
  const problems = new Map(pipeline.health().map((h) => [h.id, h.problem]));
  const byId = (name: string) => {
    const totals = new Map<string, number>();
    for (const series of metrics.series(name)) {
      const id = series.labels.component;
      if (id !== undefined) totals.set(id, (totals.get(id) ?? 0) + series.value);
    }
    return totals;
  };
  const inputs = byId("records_in_total");
  const outputs = byId("records_out_total");
  const dropped = byId("records_dropped_total");
  const rejected = byId("records_rejected_total");
  const filtered = byId("records_filtered_total");
  const errors = byId("component_errors_total");
  const before = new Map(previous?.components.map((c) => [c.id, c]));
  const seconds = previous ? Math.max(0.001, (previous.now - previous.at) / 1000) : 0;
  const config = pipeline.config;
  const kinds: [ComponentStats["kind"], string[]][] = [
    ["source", Object.keys(config.sources)],
    ["processor", Object.keys(config.processors)],
    ["sink", Object.keys(config.sinks)],
  ];
  const out: ComponentStats[] = [];
  for (const [kind, ids] of kinds) {
    for (const id of ids) {
      const stats: ComponentStats = {
        id,
        kind,
        records_in: inputs.get(id) ?? 0,
        records_out: outputs.get(id) ?? 0,
        records_dropped: dropped.get(id) ?? 0,
        records_rejected: (rejected.get(id) ?? 0) + (filtered.get(id) ?? 0),
        errors: errors.get(id) ?? 0,
      };
      const last = before.get(id);
      if (previous && last) {
        const rate = (now: number, then: number) => Math.max(0, now - then) / seconds;
        stats.in_per_sec = rate(stats.records_in, last.records_in);
        stats.out_per_sec = rate(stats.records_out, last.records_out);
        stats.dropped_per_sec = rate(stats.records_dropped, last.records_dropped);
      }
      const sink = pipeline.sinks.get(id);
      if (sink) {
        stats.queue_depth = sink.depth;
        stats.queue_bytes = sink.queuedBytes;
        const disk = sink.disk;
        if (disk) stats.buffer_records = disk.records;
        // From health(), not sink.problem: health() names ${VAR}s instead of their values.
        const problem = problems.get(id);
        if (problem !== undefined) stats.problem = problem;
      }
      out.push(stats);
    }
  }
  return out;
}

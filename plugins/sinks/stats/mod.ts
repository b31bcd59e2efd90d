/**
 * The `stats` sink: the seed aggregator's real-time analysis (slides 13–14) of the records it
 * receives, answered at `GET /stats` and counted in `/metrics`.
 *
 * @module
 */

import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import type { Counter } from "../../../src/plugin/types.ts";
import { s } from "../../../src/schema/schema.ts";
import { OTHER_SERVICE, StatsAggregator } from "./stats_aggregator.ts";

const DURATION = s.duration();
/** The window moves a sixtieth at a time: under 1 s, slots would be shorter than batches take. */
const MIN_WINDOW_MS = 1000;

/**
 * Keeps, in bounded memory, what slide 14 prints: per service and level the record counts,
 * the distinct trace ids seen within `window` (`active_traces`), the most recent errors
 * (ERROR and above, newest first, at most `recent_errors`), records per second per service
 * over the window, and the most frequent error messages within the window (`top_errors`). `GET /stats` answers
 * them keyed by sink id, `GET /stats/<id>` one sink's; `/metrics` gets
 * `sluice_log_records_total{component, service, level}`.
 *
 * The service is the record's `service_field` field (`unknown` when missing). At most
 * `max_services` services are tracked by name; the records of any further service count
 * under `_other` (in the distribution and the metric), which stderr reports once. Trace ids
 * (the record's `trace_id`, else a `trace_id` field) are counted exactly while the window
 * holds at most `max_exact_traces` of them; beyond that, time slots turn into HyperLogLog
 * sketches (2^14 registers, 16 KiB, standard error 0.81%) and `active_traces_exact` says
 * `false`. Top error messages are counted per sixtieth of the window by Space-Saving with 10
 * counters per reported message (so at most 60 × 10 × `top_errors` counters of 200 characters:
 * 6,000 by default, under 3 MB), merged over the window's slots when asked: exact while there
 * are no more distinct error messages than counters, otherwise each count is at most its
 * `error` too high. The window moves on the sink's clock as
 * records arrive, a sixtieth of it at a time. Stats are not logs: the sink keeps no records,
 * so nothing it receives can be lost by it.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   files: { type: file, include: ["logs/service*.log"], parser: json }
 * sinks:
 *   analysis: { type: stats, inputs: [files], window: 5m, service_field: service, max_services: 1000 }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.sinks.analysis?.options.window, 300_000);
 * ```
 */
export default definePlugin({
  kind: "sink",
  writesSync: true,
  type: "stats",
  description:
    "Real-time analysis (services x levels, active traces, recent and top errors, rates) for GET /stats and /metrics.",
  options: s.object({
    window: s.custom(
      (value) => {
        const ms = DURATION.parse(value, [], { issues: [] });
        return ms !== undefined && ms >= MIN_WINDOW_MS ? ms : undefined;
      },
      "a duration of at least 1s, such as 5m",
      DURATION.jsonSchema({ formatter: () => ({}) }),
    ).default(300_000).describe("The window of active_traces, recent_errors and rates."),
    service_field: s.string({ minLength: 1 }).default("service").describe(
      "The field that names a record's service.",
    ),
    max_services: s.integer({ min: 1 }).default(1000).describe(
      "Services tracked by name; further services count under _other.",
    ),
    recent_errors: s.integer({ min: 1, max: 10_000 }).default(100).describe(
      "How many recent errors are kept.",
    ),
    top_errors: s.integer({ min: 1, max: 100 }).default(10).describe(
      "How many of the most frequent error messages within the window are reported.",
    ),
    max_exact_traces: s.integer({ min: 0 }).default(100_000).describe(
      "Trace ids counted exactly within the window before slots turn into HyperLogLog sketches.",
    ),
  }),
  permissions: () => ({}),
  create(options, context) {
    const records = new Map<string, Counter>();
    const stats = new StatsAggregator({
      window: options.window,
      serviceField: options.service_field,
      maxServices: options.max_services,
      recentErrors: options.recent_errors,
      topErrors: options.top_errors,
      maxExactTraces: options.max_exact_traces,
    }, {
      counter: (service, level) => {
        const key = `${level}\u0000${service}`;
        let counter = records.get(key);
        if (!counter) {
          counter = context.counter(
            "log_records_total",
            "Records a stats sink counted, by service and level.",
            { service, level },
          );
          records.set(key, counter);
        }
        return counter;
      },
      onOverflow: (service) =>
        context.log.warnOnce(
          `stats:${context.id}:overflow`,
          `Stats sink "${context.id}" tracks at most ${options.max_services} services; service "${service}" and every further one are counted as "${OTHER_SERVICE}"`,
        ),
    });
    const write = (batch: Parameters<StatsAggregator["add"]>[0]) => stats.add(batch);
    return {
      write,
      writeSync: write,
      stats: () => stats.analysis(),
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  },
});

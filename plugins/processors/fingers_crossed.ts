/**
 * The `fingers_crossed` processor: holds recent low-level records per context and releases
 * them when an error arrives in that context.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { type RecordGetter, recordGetter } from "../../src/core/record_getter.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import type { Counter, PluginContext, Processor } from "../../src/plugin/types.ts";
import { s } from "../../src/schema/schema.ts";

/** The options of a `fingers_crossed` processor, as parsed. */
export interface FingersCrossedOptions {
  /** Records at or below this level are held. */
  hold: number;
  /** A record at or above this level releases its context's held records. */
  trigger: number;
  /** The value that names a record's context (a field, or `trace_id`). */
  by: string;
  /** Records held per context; the oldest is discarded first. */
  max_records: number;
  /** Contexts held at once; the least recently seen is discarded first. */
  max_contexts: number;
  /** How long a held record is kept (ms). */
  max_age: number;
}

/** One context's held records, oldest first. */
interface Held {
  records: LogRecord[];
  /** When its newest record arrived (the clock's time). */
  touched: number;
  /** When each record arrived, in step with `records`. */
  arrived: number[];
}

/**
 * The live processor. A record at or below `hold` (default DEBUG) is held in its context's
 * buffer (`by`: `trace_id` by default, or a field such as `request_id`; records without the
 * value share one context) and not passed on; a record at or above `trigger` (default ERROR)
 * passes after every record its context held, in their order, which empties the buffer;
 * records in between pass at once. Memory is bounded three ways, each discard counted in
 * `sluice_records_discarded_total{component,reason}`: `max_records` per context (the oldest
 * goes, reason `max_records`), `max_contexts` (the context seen longest ago goes, reason
 * `max_contexts`), and `max_age` (records held longer go, reason `max_age`; one stale
 * context is swept per record, so quiet contexts do not pile up). Held and released records
 * are counted in `sluice_records_held_total` and `sluice_records_released_total`: held
 * minus released minus discarded is what the processor holds now, which a shutdown drops
 * by design (it never saw an error for them).
 *
 * `now` is the clock (tests pass a controlled one).
 *
 * @example Debug records appear only around an error
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFingersCrossed } from "./fingers_crossed.ts";
 * import { createRecord } from "../../src/core/record.ts";
 * const process = createFingersCrossed(
 *   { hold: 10, trigger: 40, by: "request_id", max_records: 100, max_contexts: 100, max_age: 60_000 },
 *   { counter: () => ({ inc() {}, value: 0 }) },
 * );
 * const debug = createRecord({ level: 10, message: "query", fields: { request_id: "r1" } });
 * const error = createRecord({ level: 40, message: "failed", fields: { request_id: "r1" } });
 * assert.equal(process(debug), null);
 * assert.deepEqual(process(error), [debug, error]);
 * ```
 */
export function createFingersCrossed(
  options: FingersCrossedOptions,
  context: Pick<PluginContext, "counter">,
  now: () => number = Date.now,
): Processor {
  const { hold, trigger, max_records: maxRecords, max_contexts: maxContexts } = options;
  const maxAge = options.max_age;
  const get: RecordGetter = recordGetter(options.by);
  const help = "Held records a fingers_crossed processor discarded, by reason.";
  const discarded = {
    max_records: context.counter("records_discarded_total", help, { reason: "max_records" }),
    max_contexts: context.counter("records_discarded_total", help, { reason: "max_contexts" }),
    max_age: context.counter("records_discarded_total", help, { reason: "max_age" }),
  };
  const held: Counter = context.counter(
    "records_held_total",
    "Records a fingers_crossed processor held back.",
  );
  const released: Counter = context.counter(
    "records_released_total",
    "Held records a fingers_crossed processor released with an error.",
  );
  // Least recently touched first: a context is re-inserted when touched.
  const contexts = new Map<string, Held>();

  /** Drops a context's records older than max_age; true when none are left. */
  const expire = (entry: Held, t: number): boolean => {
    let stale = 0;
    while (stale < entry.arrived.length && entry.arrived[stale]! + maxAge <= t) stale++;
    if (stale > 0) {
      entry.records.splice(0, stale);
      entry.arrived.splice(0, stale);
      discarded.max_age.inc(stale);
    }
    return entry.records.length === 0;
  };

  return (record: LogRecord) => {
    const t = now();
    // Sweep one context: the one touched longest ago, if all it holds is stale.
    const oldest = contexts.entries().next().value;
    if (oldest !== undefined && oldest[1].touched + maxAge <= t) {
      expire(oldest[1], t);
      contexts.delete(oldest[0]);
    }
    const level = record.level;
    if (level > hold && level < trigger) return record;
    const value = get(record);
    const key = value === undefined || value === null ? "" : String(value);
    const entry = contexts.get(key);
    if (level >= trigger) {
      if (entry === undefined) return record;
      contexts.delete(key);
      expire(entry, t);
      const out = entry.records;
      released.inc(out.length);
      out.push(record);
      return out;
    }
    held.inc();
    if (entry === undefined) {
      if (contexts.size >= maxContexts) {
        const [lostKey, lost] = contexts.entries().next().value!;
        contexts.delete(lostKey);
        discarded.max_contexts.inc(lost.records.length);
      }
      contexts.set(key, { records: [record], arrived: [t], touched: t });
      return null;
    }
    contexts.delete(key);
    contexts.set(key, entry);
    entry.touched = t;
    expire(entry, t);
    if (entry.records.length >= maxRecords) {
      entry.records.shift();
      entry.arrived.shift();
      discarded.max_records.inc();
    }
    entry.records.push(record);
    entry.arrived.push(t);
    return null;
  };
}

/**
 * Holds recent DEBUG (and TRACE) records per context and passes them on only when an ERROR
 * arrives in the same context, so a log shows the detail around failures and not the rest
 * (see {@linkcode createFingersCrossed}). The sinks behind it must accept the held level
 * (`level: debug`), or the records are never built.
 *
 * @example YAML: debug lines of a request appear only when that request fails
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * loggers: { "": debug }
 * sources:
 *   app: { type: logger }
 * processors:
 *   around_errors: { type: fingers_crossed, inputs: [app], by: request_id, max_records: 50 }
 * sinks:
 *   out: { type: console, inputs: [around_errors], level: debug }
 * `;
 * const { config } = await parseConfigText(yaml, "fingers_crossed.yaml");
 * assert.equal(config.processors.around_errors?.options.trigger, 40);
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "fingers_crossed",
  description:
    "Holds recent debug records per context and releases them when an error arrives (bounded).",
  options: s.object({
    hold: s.level().default(10).describe("Records at or below this level are held."),
    trigger: s.level().default(40).describe(
      "A record at or above this level releases its context's held records.",
    ),
    by: s.string({ minLength: 1 }).default("trace_id").describe(
      "The value naming a record's context: trace_id or a field such as request_id.",
    ),
    max_records: s.integer({ min: 1 }).default(100).describe(
      "Records held per context (the oldest is discarded first).",
    ),
    max_contexts: s.integer({ min: 1 }).default(1000).describe(
      "Contexts held at once (the least recently seen is discarded first).",
    ),
    max_age: s.duration().default(60_000).describe("How long a held record is kept."),
  }, {
    refine(options, path, ctx) {
      if (options.hold >= options.trigger) {
        ctx.issues.push({
          path: [...path, "hold"],
          message: `hold (${options.hold}) must be below trigger (${options.trigger})`,
          hint: "hold: debug with trigger: error keeps debug records until an error",
        });
      }
    },
  }),
  create: (options, context) => createFingersCrossed(options, context),
});

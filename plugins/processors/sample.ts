/**
 * The `sample` processor: passes a fraction of records, per level.
 *
 * @module
 */

import { type LevelName, levelName, parseLevel } from "../../src/core/levels.ts";
import type { LogRecord } from "../../src/core/record.ts";
import { type RecordGetter, recordGetter } from "../../src/core/record_getter.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import type { Counter, PluginContext, Processor } from "../../src/plugin/types.ts";
import { s } from "../../src/schema/schema.ts";

/** The options of a `sample` processor, as parsed. */
export interface SampleOptions {
  /** The fraction passed at levels `levels` does not name (1: all). */
  rate: number;
  /** A fraction per level name (`debug: 0.1`); a level not named takes `rate`. */
  levels: { [level in LevelName]?: number | undefined };
  /** A record value whose hash decides, so all records of one trace or request go together. */
  by?: string | undefined;
}

/**
 * The live sampler. A record's rate is the rate of the highest level named in `levels` at or
 * below the record's level (`Level 25` follows `info`); a record below every named level
 * takes `rate`. Without `by`, a
 * record passes when `random() < rate`; with `by`, when a 32-bit FNV-1a hash of that value
 * maps below the rate, so every record of one trace (or request) is kept or dropped together
 * and two agents sampling the same traffic agree. A record without the value is decided by
 * `random()`. What is dropped is counted by level in
 * `sluice_records_sampled_out_total{component,level}`.
 *
 * `random` is the random source (tests pass a controlled one).
 *
 * @example Keep one debug record in ten, every error
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSample } from "./sample.ts";
 * import { createRecord } from "../../src/core/record.ts";
 * let n = 0;
 * const sample = createSample(
 *   { rate: 1, levels: { debug: 0.1 } },
 *   { counter: () => ({ inc() {}, value: 0 }) },
 *   () => (n++ % 10) / 10,
 * );
 * let kept = 0;
 * for (let i = 0; i < 100; i++) if (sample(createRecord({ level: 10, message: "d" }))) kept++;
 * assert.equal(kept, 10);
 * assert.ok(sample(createRecord({ level: 40, message: "e" })));
 * ```
 */
export function createSample(
  options: SampleOptions,
  context: Pick<PluginContext, "counter">,
  random: () => number = Math.random,
): Processor {
  // One rate per level number 0..100 (levels are small integers), looked up per record.
  const named = Object.entries(options.levels)
    .filter(([, rate]) => rate !== undefined)
    .map(([name, rate]) => [parseLevel(name)!, rate!] as const)
    .sort((a, b) => a[0] - b[0]);
  const rates = new Float64Array(101).fill(options.rate);
  for (let level = 0; level <= 100; level++) {
    for (const [at, rate] of named) if (at <= level) rates[level] = rate;
  }
  const counters = new Map<number, Counter>();
  const dropped = (level: number): Counter => {
    let counter = counters.get(level);
    if (counter === undefined) {
      counter = context.counter(
        "records_sampled_out_total",
        "Records a sample processor dropped, by level.",
        { level: levelName(level).toLowerCase() },
      );
      counters.set(level, counter);
    }
    return counter;
  };
  const get: RecordGetter | undefined = options.by === undefined
    ? undefined
    : recordGetter(options.by);
  return (record: LogRecord) => {
    const level = record.level;
    const rate = level >= 0 && level <= 100 ? rates[level | 0]! : options.rate;
    if (rate >= 1) return record;
    let draw: number;
    const value = get?.(record);
    if (value === undefined || value === null) draw = random();
    else draw = hash(typeof value === "string" ? value : String(value)) / 4294967296;
    if (draw < rate) return record;
    dropped(level).inc();
    return null;
  };
}

/** 32-bit FNV-1a over UTF-16 code units: fast, stable across processes. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const rate = s.number({ min: 0, max: 1 });

/**
 * Passes a fraction of records: `rate` for every level, or a rate per level in `levels`;
 * `by: trace_id` (or a field such as `request_id`) keeps or drops whole traces together.
 * Drops are counted by level (see {@linkcode createSample}).
 *
 * @example YAML: one debug record in ten, a quarter of info, all warnings and errors
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   app: { type: logger }
 * processors:
 *   fewer: { type: sample, inputs: [app], levels: { debug: 0.1, info: 0.25, warn: 1 }, by: trace_id }
 * sinks:
 *   out: { type: console, inputs: [fewer], level: debug }
 * `;
 * const { config } = await parseConfigText(yaml, "sample.yaml");
 * assert.equal(config.processors.fewer?.options.rate, 1);
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "sample",
  description: "Passes a fraction of records (`rate`, or a rate per level); drops are counted.",
  options: s.object({
    rate: rate.default(1).describe("The fraction passed at levels `levels` does not name."),
    levels: s.object({
      trace: rate.optional(),
      debug: rate.optional(),
      info: rate.optional(),
      warn: rate.optional(),
      error: rate.optional(),
      critical: rate.optional(),
    }).default({
      trace: undefined,
      debug: undefined,
      info: undefined,
      warn: undefined,
      error: undefined,
      critical: undefined,
    }).describe(
      "A fraction per level (debug: 0.1); a level between named ones takes the one below.",
    ),
    by: s.string({ minLength: 1 }).optional().describe(
      "Decide by a hash of this value (trace_id, request_id): whole traces kept together.",
    ),
  }),
  create: (options, context) => createSample(options, context),
});

/**
 * The `throttle` processor: at most `limit` records per `interval` per key; the rest are
 * counted and summarised.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { type RecordGetter, recordGetter } from "../../src/core/record_getter.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import type { Counter, PluginContext, Processor } from "../../src/plugin/types.ts";
import { s } from "../../src/schema/schema.ts";

/** The options of a `throttle` processor, as parsed. */
export interface ThrottleOptions {
  /** Records passed per key and interval. */
  limit: number;
  /** The window length (ms). */
  interval: number;
  /** The values that make a record's key. */
  by: string[];
  /** Keys tracked at once; the least recently seen is forgotten first. */
  max_keys: number;
}

/** One key's window. */
interface Window {
  start: number;
  passed: number;
  suppressed: number;
  /** The highest level suppressed in this window: the summary's level. */
  level: number;
  /** The last suppressed record, for the summary's logger and key values. */
  last: LogRecord | undefined;
  /** Whether the key waits in the summary queue. */
  queued: boolean;
}

/**
 * The live throttle: fixed windows of `interval` ms per key, opened by the key's first
 * record. Within a window the first `limit` records pass and the rest are dropped and
 * counted (`sluice_records_throttled_total{component}`). When a window that dropped records
 * has ended, the next record through the processor brings its summary along, before itself:
 * a record at the highest dropped level, of the same logger, whose message says how many
 * records of which key were suppressed, with the fields `throttled` (the count), `since`
 * (the window's start, ISO 8601) and the key's values. A processor cannot speak on its own,
 * so a summary waits for traffic; the counter is in /metrics at once. At most `max_keys`
 * keys are tracked (memory stays bounded under a flood of distinct keys): the key seen
 * longest ago is forgotten, its pending summary sent with the next record.
 *
 * `now` is the clock (tests pass a controlled one).
 *
 * @example Two per second, the third dropped and summarised
 * ```ts
 * import assert from "node:assert/strict";
 * import { createThrottle } from "./throttle.ts";
 * import { createRecord } from "../../src/core/record.ts";
 * let now = 0;
 * const counters = new Map<string, number>();
 * const throttle = createThrottle(
 *   { limit: 2, interval: 1000, by: ["message"], max_keys: 100 },
 *   { id: "t", counter: (name) => ({ inc: (n = 1) => void counters.set(name, (counters.get(name) ?? 0) + n), value: 0 }) },
 *   () => now,
 * );
 * const r = createRecord({ message: "disk full", level: 40 });
 * assert.equal(throttle(r), r);
 * assert.equal(throttle(r), r);
 * assert.equal(throttle(r), null);
 * now = 1000;
 * const out = throttle(r) as readonly { message: string; fields: Record<string, unknown> }[];
 * assert.equal(out.length, 2);
 * assert.equal(out[0]!.fields.throttled, 1);
 * assert.equal(out[1], r);
 * assert.equal(counters.get("records_throttled_total"), 1);
 * ```
 */
export function createThrottle(
  options: ThrottleOptions,
  context: Pick<PluginContext, "id" | "counter">,
  now: () => number = Date.now,
): Processor {
  const { limit, interval, max_keys: maxKeys } = options;
  const getters: RecordGetter[] = options.by.map(recordGetter);
  const throttled: Counter = context.counter(
    "records_throttled_total",
    "Records a throttle processor dropped over its limit.",
  );
  const summaries: Counter = context.counter(
    "throttle_summaries_total",
    "Summary records a throttle processor sent for what it dropped.",
  );
  // Map order is least recently seen first: a key is re-inserted when touched.
  const windows = new Map<string, Window>();
  // Keys whose window dropped records, oldest window first (windows have one length).
  const pending: [string, Window][] = [];
  let head = 0;
  const keyOf = getters.length === 1
    ? (record: LogRecord) => textOf(getters[0]!(record))
    : (record: LogRecord) => {
      let key = "";
      for (let i = 0; i < getters.length; i++) key += textOf(getters[i]!(record)) + "\u0000";
      return key;
    };

  const summarise = (key: string, window: Window): LogRecord => {
    summaries.inc();
    const last = window.last!;
    const fields: Record<string, unknown> = {};
    for (let i = 0; i < getters.length; i++) {
      const value = getters[i]!(last);
      if (value !== undefined) fields[options.by[i]!] = value;
    }
    fields.throttled = window.suppressed;
    fields.since = new Date(window.start).toISOString();
    const shown = key.length > 80 ? key.slice(0, 77) + "..." : key;
    return {
      time: now(),
      level: window.level,
      logger: last.logger,
      message: `throttle "${context.id}": suppressed ${window.suppressed} record${
        window.suppressed === 1 ? "" : "s"
      } of ${
        JSON.stringify(shown.replaceAll("\u0000", " ").trim())
      } over ${limit} per ${interval} ms`,
      fields,
    };
  };

  /** Sends a window's pending summary (once) and clears its count. */
  const flush = (key: string, window: Window, out: LogRecord[]) => {
    if (!window.queued) return;
    window.queued = false;
    out.push(summarise(key, window));
    window.suppressed = 0;
    window.last = undefined;
  };

  return (record) => {
    const t = now();
    let out: LogRecord[] | undefined;
    // Summaries of ended windows ride on this record. An entry whose summary went already
    // (its key was forgotten, or its window restarted) is skipped.
    while (head < pending.length && pending[head]![1].start + interval <= t) {
      const [key, window] = pending[head++]!;
      if (window.queued) flush(key, window, out ??= []);
    }
    if (head > 1024 && head * 2 > pending.length) {
      pending.splice(0, head);
      head = 0;
    }
    const key = keyOf(record);
    let window = windows.get(key);
    if (window === undefined) {
      if (windows.size >= maxKeys) {
        const [oldKey, oldWindow] = windows.entries().next().value!;
        windows.delete(oldKey);
        flush(oldKey, oldWindow, out ??= []);
      }
      window = { start: t, passed: 0, suppressed: 0, level: 0, last: undefined, queued: false };
      windows.set(key, window);
    } else {
      // Re-inserted: the Map's first key is the one seen longest ago.
      windows.delete(key);
      windows.set(key, window);
      if (window.start + interval <= t) {
        flush(key, window, out ??= []);
        window.start = t;
        window.passed = 0;
        window.level = 0;
      }
    }
    if (window.passed < limit) {
      window.passed++;
      if (out === undefined || out.length === 0) return record;
      out.push(record);
      return out;
    }
    window.suppressed++;
    window.last = record;
    if (record.level > window.level) window.level = record.level;
    throttled.inc();
    if (!window.queued) {
      window.queued = true;
      pending.push([key, window]);
    }
    return out === undefined || out.length === 0 ? null : out;
  };
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * Passes at most `limit` records per `interval` for each key (`by`: record values by name,
 * as the `filter` processor names them; default the logger and the message); drops the rest,
 * counts them in `sluice_records_throttled_total`, and sends a summary record per window
 * that dropped any (see {@linkcode createThrottle}).
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   app: { type: logger }
 * processors:
 *   calm: { type: throttle, inputs: [app], limit: 10, interval: 1s, by: [logger, message] }
 * sinks:
 *   out: { type: console, inputs: [calm] }
 * `;
 * const { config } = await parseConfigText(yaml, "throttle.yaml");
 * assert.equal(config.processors.calm?.options.interval, 1000);
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "throttle",
  description:
    "At most `limit` records per `interval` per key; the rest are counted and summarised.",
  options: s.object({
    limit: s.integer({ min: 1 }).describe("Records passed per key and interval."),
    interval: s.duration().default(1000).describe("The window length (1s, 1m…)."),
    by: s.array(s.string({ minLength: 1 }), { single: true, minItems: 1 }).default([
      "logger",
      "message",
    ]).describe("The values that make the key: message, logger, trace_id or field names."),
    max_keys: s.integer({ min: 1 }).default(10_000).describe(
      "Keys tracked at once (the least recently seen is forgotten first).",
    ),
  }, {
    refine(options, path, ctx) {
      if (options.interval <= 0) {
        ctx.issues.push({
          path: [...path, "interval"],
          message: `interval must be longer than 0 ms, got ${options.interval}`,
        });
      }
    },
  }),
  create: (options, context) => createThrottle(options, context),
});

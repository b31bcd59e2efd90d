/**
 * An example processor plugin: keeps one record in N below a level, every record at or
 * above it.
 *
 * Use it from YAML with `module: ./plugins/sample.ts` (see config/examples/custom_plugin.yaml
 * and docs/plugins.md). In your own project, import from the published package
 * (`jsr:@sluice/sluice`) instead of the relative path below.
 *
 * @module
 */

import { definePlugin, type LogRecord, s } from "../../../mod.ts";

/**
 * Passes the first record of every `every` below `below` (per logger, so a chatty logger
 * cannot starve a quiet one) and every record at or above `below`. What it drops is counted
 * in `sluice_sampled_out_total`, so nothing disappears unseen. A processor runs inside the
 * log call: it is synchronous and allocates nothing per record.
 *
 * @example Keep one debug record in three, every warning
 * ```ts
 * import assert from "node:assert/strict";
 * import sample from "./sample.ts";
 * import { createRecord } from "../../../mod.ts";
 * const options = sample.options.parse({ every: 3, below: "warn" }, [], { issues: [] })!;
 * const context = { counter: () => ({ inc() {}, value: 0 }) };
 * const process = await sample.create(options, context as never);
 * const records = [10, 10, 10, 10, 30].map((level) => createRecord({ level, message: "m" }));
 * const passed = records.map((record) => process(record) !== null);
 * assert.deepEqual(passed, [true, false, false, true, true]);
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "sample",
  description: "Keeps one record in N below a level (per logger) and every record above it.",
  options: s.object({
    every: s.integer({ min: 1 }).default(10).describe("Keep one record in this many."),
    below: s.level().default(30).describe("Records at or above this level always pass."),
  }),
  create(options, context) {
    const { every, below } = options;
    const seen = new Map<string, number>();
    const sampledOut = context.counter("sampled_out_total", "Records the sample plugin dropped.");
    return (record: LogRecord): LogRecord | null => {
      if (record.level >= below) return record;
      // Bounded: ingested records may carry any number of logger names.
      if (seen.size >= 10_000 && !seen.has(record.logger)) seen.clear();
      const n = seen.get(record.logger) ?? 0;
      seen.set(record.logger, n + 1 === every ? 0 : n + 1);
      if (n === 0) return record;
      sampledOut.inc();
      return null;
    };
  },
});

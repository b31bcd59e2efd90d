/**
 * The `memory` sink: keeps records in memory, for users' own tests.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";

const stores = new Map<string, LogRecord[]>();

/**
 * The records a `memory` sink named `name` has received (its `name:` option, or its id).
 * The array is live; clear it with `length = 0`.
 *
 * @example Read what a memory sink received
 * ```ts
 * import { memoryRecords } from "./memory.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Array.isArray(memoryRecords("test")));
 * ```
 */
export function memoryRecords(name: string): LogRecord[] {
  let store = stores.get(name);
  if (!store) stores.set(name, store = []);
  return store;
}

/**
 * Appends every record it receives to {@linkcode memoryRecords}`(name)`, keeping at most
 * `max_records` (the oldest are dropped first and counted).
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   captured: { type: memory, max_records: 1000 }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "sink",
  writesSync: true,
  type: "memory",
  description: "Keeps records in memory (read them with memoryRecords(name)); for tests.",
  options: s.object({
    name: s.string().optional().describe("The store name; the sink id when omitted."),
    max_records: s.integer({ min: 1 }).default(100_000).describe("Most records kept."),
  }),
  permissions: () => ({}),
  create(options, context) {
    const store = memoryRecords(options.name ?? context.id);
    const evicted = context.counter(
      "memory_evicted_total",
      "Records a memory sink evicted to stay bounded.",
    );
    const writeSync = (records: readonly LogRecord[]) => {
      for (const record of records) store.push(record);
      const excess = store.length - options.max_records;
      if (excess > 0) {
        store.splice(0, excess);
        evicted.inc(excess);
      }
    };
    return { writeSync, write: writeSync, [Symbol.asyncDispose]: () => Promise.resolve() };
  },
});

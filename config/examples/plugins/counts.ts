/**
 * An example sink plugin: counts records per level and logger and keeps the totals in a
 * JSON file.
 *
 * Use it from YAML with `module: ./plugins/counts.ts` (see config/examples/custom_plugin.yaml
 * and docs/plugins.md). In your own project, import from the published package
 * (`jsr:@sluice/sluice`) instead of the relative path below.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { definePlugin, levelName, type LogRecord, PluginError, s } from "../../../mod.ts";

/** What the sink writes to its file. */
export interface Counts {
  /** Every record counted. */
  total: number;
  /** Records per level name (`INFO`, `ERROR`, …). */
  levels: Record<string, number>;
  /** Records per logger name (`""` is the root). */
  loggers: Record<string, number>;
}

/**
 * Counts every record it receives per level and per logger. `flush()` and shutdown write
 * the totals to `path` (through a temporary file and a rename, so a reader never sees half
 * a file). A failed write is counted and reported once, and the totals stay in memory for
 * the next flush.
 *
 * @example Its options, as `sinks: { totals: { module: ./plugins/counts.ts, path: … } }` gives them
 * ```ts
 * import assert from "node:assert/strict";
 * import counts from "./counts.ts";
 *
 * assert.equal(counts.kind, "sink");
 * const context = { issues: [] };
 * const options = counts.options.parse({ path: "logs/counts.json" }, [], context);
 * assert.deepEqual(context.issues, []);
 * assert.equal(options?.path, "logs/counts.json");
 * ```
 */
export default definePlugin({
  kind: "sink",
  type: "counts",
  description: "Counts records per level and logger; writes the totals as JSON on flush.",
  options: s.object({
    path: s.string({ minLength: 1 }).describe(
      "The JSON file; relative to the config file's directory.",
    ),
  }),
  create(options, context) {
    const path = resolve(context.baseDir, options.path);
    try {
      Deno.mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new PluginError(
        `Cannot open sink "${context.id}": cannot create directory "${dirname(path)}"`,
        { cause: error },
      );
    }
    const counts: Counts = { total: 0, levels: {}, loggers: {} };
    const counted = context.counter("counted_records_total", "Records the counts sink counted.");
    const failures = context.counter("counts_write_errors_total", "Failed writes of the totals.");
    const writeSync = (records: readonly LogRecord[]) => {
      // One pass, no allocation per record: a level name is an array load.
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        const level = levelName(record.level);
        counts.levels[level] = (counts.levels[level] ?? 0) + 1;
        counts.loggers[record.logger] = (counts.loggers[record.logger] ?? 0) + 1;
      }
      counts.total += records.length;
      counted.inc(records.length);
    };
    const save = async () => {
      const temporary = `${path}.${crypto.randomUUID()}.tmp`;
      try {
        await Deno.writeTextFile(temporary, JSON.stringify(counts, null, 2) + "\n");
        await Deno.rename(temporary, path);
      } catch (error) {
        failures.inc();
        context.log.warnOnce(
          `counts:${context.id}`,
          `Sink "${context.id}" cannot write its totals to "${path}"`,
          error,
        );
        await Deno.remove(temporary).catch(() => {});
      }
    };
    return {
      writeSync,
      write: writeSync,
      flush: save,
      [Symbol.asyncDispose]: save,
    };
  },
});

/**
 * What every sink does when its formatter throws on a record: count it, report it once,
 * skip the record.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import type { PluginContext } from "./types.ts";

/**
 * Registers `sluice_format_errors_total` for the component and returns the callback that
 * counts a failed record, as a drop by reason `format_error` too (the sink node takes it out
 * of what the batch delivered), and reports the first failure through the internal log. A
 * record is counted once: a batch that is retried formats it, and fails on it, again.
 *
 * @example Count a formatter failure
 * ```ts
 * import { formatErrorReporter } from "./format_error_reporter.ts";
 * import { Metrics } from "../pipeline/metrics.ts";
 * import { createRecord } from "../core/record.ts";
 * import type { PluginContext } from "./types.ts";
 * import assert from "node:assert/strict";
 * const metrics = new Metrics();
 * const context = {
 *   id: "out",
 *   counter: (name: string, help: string, labels: Record<string, string> = {}) =>
 *     metrics.counter(name, help, { component: "out", ...labels }),
 *   log: { warnOnce: () => {}, info: () => {} },
 * } as unknown as PluginContext;
 * formatErrorReporter(context)(createRecord({ message: "x" }), new Error("bad"));
 * assert.ok(metrics.sum("format_errors_total") === 1);
 * assert.ok(metrics.sum("records_dropped_total", { reason: "format_error" }) === 1);
 * ```
 */
export function formatErrorReporter(
  context: PluginContext,
): (record: LogRecord, error: unknown) => void {
  const counter = context.counter("format_errors_total", "Records a formatter failed on.");
  const dropped = context.counter(
    "records_dropped_total",
    "Records dropped, by component and reason.",
    { reason: "format_error" },
  );
  let failed = formatFailures.get(context.id);
  if (!failed) formatFailures.set(context.id, failed = new WeakSet());
  return (record, error) => {
    if (failed.has(record)) return;
    failed.add(record);
    counter.inc();
    dropped.inc();
    context.log.warnOnce(
      `format:${context.id}`,
      `Formatter of sink "${context.id}" failed; record skipped`,
      error,
    );
  };
}

/**
 * The records each sink's formatter failed on, by sink id: the sink node leaves them out of
 * what a batch delivered. Weak: a record is forgotten with the record.
 */
export const formatFailures: Map<string, WeakSet<LogRecord>> = new Map();

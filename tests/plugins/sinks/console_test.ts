import assert from "node:assert/strict";
import { createRecord } from "../../../src/core/record.ts";
import { createInternalLog } from "../../../src/pipeline/internal_log.ts";
import { Metrics } from "../../../src/pipeline/metrics.ts";
import type { PluginContext, Sink } from "../../../src/plugin/types.ts";
import consoleSink from "../../../plugins/sinks/console.ts";

Deno.test("console sink counts and reports records its formatter fails on", async () => {
  const metrics = new Metrics();
  const warnings: string[] = [];
  const context: PluginContext = {
    id: "out",
    baseDir: Deno.cwd(),
    dataDir: Deno.cwd(),
    signal: new AbortController().signal,
    log: createInternalLog(metrics, (line) => warnings.push(line)),
    createFormatter: () => () => {
      throw new Error("cannot format");
    },
    counter: (name, help, labels) => metrics.counter(name, help, { component: "out", ...labels }),
  };
  const sink = await consoleSink.create(
    { stream: "stderr", color: "never", format: { type: "text", options: {} } },
    context,
  ) as Sink;
  sink.writeSync!([createRecord({ message: "a" }), createRecord({ message: "b" })]);
  await sink[Symbol.asyncDispose]();
  assert.equal(metrics.sum("format_errors_total", { component: "out" }), 2);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /Formatter of sink "out" failed; record skipped: cannot format/);
});

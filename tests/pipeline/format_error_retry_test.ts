import assert from "node:assert/strict";
import { createRecord, definePlugin, loadConfig, type LogRecord, Pipeline, s } from "../../mod.ts";
import { formatErrorReporter } from "../../src/plugin/format_error_reporter.ts";

Deno.test("a record its formatter fails on is counted once, however often its batch is retried", async () => {
  const written: string[] = [];
  let failuresLeft = 3;
  // Formats the whole batch on every attempt (as the network sinks do), then fails the first
  // attempts as a peer that is down would.
  const flaky = definePlugin({
    kind: "sink",
    type: "test_flaky_formatting",
    description: "Formats each attempt, fails the first three (tests).",
    options: s.object({}),
    create(_options, context) {
      const onFormatError = formatErrorReporter(context);
      return {
        write(records: readonly LogRecord[]) {
          const lines: string[] = [];
          for (const record of records) {
            if (record.message === "bad") {
              onFormatError(record, new RangeError("Invalid time value"));
            } else lines.push(record.message);
          }
          if (failuresLeft-- > 0) throw new Error("peer down");
          written.push(...lines);
        },
        [Symbol.asyncDispose]: () => Promise.resolve(),
      };
    },
  });
  const { config, formatters } = await loadConfig({
    sources: { app: { type: "logger" } },
    sinks: { out: { type: "test_flaky_formatting" } },
  }, { plugins: [flaky] });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  try {
    const sink = pipeline.sinks.get("out") as unknown as { push(r: LogRecord, l: boolean): void };
    for (const message of ["good", "bad", "also good"]) sink.push(createRecord({ message }), false);
    assert.ok(await pipeline.flush(10_000));
    const sum = (name: string, labels: Record<string, string> = {}) =>
      pipeline.metrics.sum(name, { component: "out", ...labels });
    assert.deepEqual(written, ["good", "also good"]);
    assert.equal(sum("sink_retries_total"), 3);
    assert.equal(sum("format_errors_total"), 1);
    assert.equal(sum("records_dropped_total", { reason: "format_error" }), 1);
    assert.equal(sum("records_out_total"), 2);
  } finally {
    await pipeline.shutdown();
  }
});

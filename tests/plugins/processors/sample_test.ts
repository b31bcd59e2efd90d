import assert from "node:assert/strict";
import { configure } from "../../../src/library/configure.ts";
import { createRecord } from "../../../src/core/record.ts";
import { Metrics } from "../../../src/pipeline/metrics.ts";
import { getLogger } from "../../../src/logger/logger.ts";
import { withSpan } from "../../../src/logger/span.ts";
import sample, { createSample, type SampleOptions } from "../../../plugins/processors/sample.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";

/** A sampler whose random source cycles 0, 0.01 … 0.99, so a rate r passes exactly r of 100. */
function make(options: Partial<SampleOptions>) {
  const metrics = new Metrics();
  let n = 0;
  const fn = createSample(
    { rate: 1, levels: {}, ...options },
    { counter: (name, help, labels = {}) => metrics.counter(name, help, labels) },
    () => (n++ % 100) / 100,
  );
  const passed = (level: number, count = 100, fields = {}) => {
    let kept = 0;
    for (let i = 0; i < count; i++) {
      if (fn(createRecord({ level, message: "m", fields })) !== null) kept++;
    }
    return kept;
  };
  return { metrics, passed };
}

Deno.test("sample passes rate of the records at every level", () => {
  const { metrics, passed } = make({ rate: 0.25 });
  assert.equal(passed(20), 25);
  assert.equal(passed(40), 25);
  assert.equal(metrics.sum("records_sampled_out_total", { level: "info" }), 75);
  assert.equal(metrics.sum("records_sampled_out_total", { level: "error" }), 75);
});

Deno.test("sample per level: a level takes the rate of the highest named level at or below it", () => {
  const { passed } = make({ levels: { debug: 0.1, info: 0.5, error: 1 } });
  assert.equal(passed(5), 100, "TRACE is below every named level: rate (1)");
  assert.equal(passed(10), 10);
  assert.equal(passed(20), 50);
  assert.equal(passed(25), 50, "Level 25 follows info");
  assert.equal(passed(30), 50, "warn is not named: it follows info");
  assert.equal(passed(40), 100);
  assert.equal(passed(50), 100);
});

Deno.test("sample by trace_id keeps or drops every record of a trace together, the same in every process", () => {
  const { passed } = make({ rate: 0.5, by: "request_id" });
  const decisions = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const id = `req-${i}`;
    decisions.set(id, passed(20, 5, { request_id: id }));
  }
  for (const [id, kept] of decisions) {
    assert.ok(kept === 0 || kept === 5, `${id} kept ${kept} of 5`);
  }
  const keptTraces = [...decisions.values()].filter((k) => k === 5).length;
  assert.ok(keptTraces > 70 && keptTraces < 130, `about half the requests kept: ${keptTraces}`);
  const again = make({ rate: 0.5, by: "request_id" });
  for (const [id, kept] of decisions) assert.equal(again.passed(20, 5, { request_id: id }), kept);
});

Deno.test("sample options: rates within 0..1, level names checked with did-you-mean", () => {
  const ctx = { issues: [] as { path: (string | number)[]; message: string; hint?: string }[] };
  sample.options.parse({ rate: 1.5, levels: { debgu: 0.1 } }, ["processors", "s"], ctx);
  const paths = ctx.issues.map((i) => i.path.join("."));
  assert.ok(paths.includes("processors.s.rate"), JSON.stringify(ctx.issues));
  const level = ctx.issues.find((i) => i.path.join(".") === "processors.s.levels.debgu");
  assert.equal(level?.hint, 'did you mean "debug"?');
});

Deno.test("sample in a pipeline: dropped records are counted by level in /metrics", async () => {
  const pipeline = await configure({
    loggers: { "": "debug" },
    sources: { app: { type: "logger" } },
    processors: {
      fewer: { type: "sample", inputs: ["app"], levels: { debug: 0, info: 1 }, by: "trace_id" },
    },
    sinks: { out: { type: "memory", name: "sample-e2e", inputs: ["fewer"], level: "debug" } },
  });
  try {
    const log = getLogger("sampled");
    withSpan("request", () => {
      for (let i = 0; i < 10; i++) log.debug("detail");
      log.info("done");
    });
    assert.ok(await pipeline.flush());
    assert.deepEqual(memoryRecords("sample-e2e").map((r) => r.message), ["done"]);
    assert.match(
      pipeline.metrics.render(),
      /sluice_records_sampled_out_total\{component="fewer",level="debug"\} 10/,
    );
  } finally {
    await pipeline.shutdown();
  }
});

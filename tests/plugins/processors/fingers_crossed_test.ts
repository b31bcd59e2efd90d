import assert from "node:assert/strict";
import { configure } from "../../../src/library/configure.ts";
import { createRecord, type LogRecord } from "../../../src/core/record.ts";
import { Metrics } from "../../../src/pipeline/metrics.ts";
import { getLogger } from "../../../src/logger/logger.ts";
import { withContext } from "../../../src/logger/context.ts";
import fingersCrossed, {
  createFingersCrossed,
  type FingersCrossedOptions,
} from "../../../plugins/processors/fingers_crossed.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";

function make(options: Partial<FingersCrossedOptions>) {
  const clock = { now: 0 };
  const metrics = new Metrics();
  const fn = createFingersCrossed(
    {
      hold: 10,
      trigger: 40,
      by: "request_id",
      max_records: 100,
      max_contexts: 100,
      max_age: 60_000,
      ...options,
    },
    { counter: (name, help, labels = {}) => metrics.counter(name, help, labels) },
    () => clock.now,
  );
  const run = (level: number, message: string, request_id?: string): string[] => {
    const fields = request_id === undefined ? {} : { request_id };
    const out = fn(createRecord({ level, message, fields }));
    const list = out === null ? [] : Array.isArray(out) ? out : [out as LogRecord];
    return list.map((r: LogRecord) => r.message);
  };
  return { clock, metrics, run };
}

Deno.test("fingers_crossed holds debug records and releases them, in order, before the error of their context", () => {
  const { metrics, run } = make({});
  assert.deepEqual(run(10, "r1 query", "r1"), []);
  assert.deepEqual(run(10, "r2 query", "r2"), []);
  assert.deepEqual(run(5, "r1 trace", "r1"), []);
  assert.deepEqual(run(20, "r1 info passes at once", "r1"), ["r1 info passes at once"]);
  assert.deepEqual(run(40, "r1 failed", "r1"), ["r1 query", "r1 trace", "r1 failed"]);
  assert.deepEqual(run(50, "r1 again", "r1"), ["r1 again"], "the buffer was emptied");
  assert.deepEqual(run(10, "r1 after", "r1"), [], "held again after a release");
  assert.equal(metrics.sum("records_held_total"), 4);
  assert.equal(metrics.sum("records_released_total"), 2);
});

Deno.test("fingers_crossed bounds each context: the oldest record is discarded and counted", () => {
  const { metrics, run } = make({ max_records: 3 });
  for (let i = 0; i < 5; i++) run(10, `d${i}`, "r");
  assert.deepEqual(run(40, "boom", "r"), ["d2", "d3", "d4", "boom"]);
  assert.equal(metrics.sum("records_discarded_total", { reason: "max_records" }), 2);
});

Deno.test("fingers_crossed bounds the contexts: the least recently seen is discarded and counted", () => {
  const { metrics, run } = make({ max_contexts: 2 });
  run(10, "a1", "a");
  run(10, "b1", "b");
  run(10, "a2", "a"); // a is now the most recent
  run(10, "c1", "c"); // b goes
  assert.deepEqual(run(40, "b failed", "b"), ["b failed"]);
  assert.deepEqual(run(40, "a failed", "a"), ["a1", "a2", "a failed"]);
  assert.equal(metrics.sum("records_discarded_total", { reason: "max_contexts" }), 1);
});

Deno.test("fingers_crossed discards records older than max_age, and sweeps quiet contexts", () => {
  const { clock, metrics, run } = make({ max_age: 1000 });
  run(10, "old", "r");
  clock.now = 600;
  run(10, "newer", "r");
  clock.now = 1200;
  assert.deepEqual(run(40, "failed", "r"), ["newer", "failed"]);
  assert.equal(metrics.sum("records_discarded_total", { reason: "max_age" }), 1);
  run(10, "quiet", "q");
  clock.now = 5000;
  run(20, "any record sweeps one stale context");
  assert.equal(metrics.sum("records_discarded_total", { reason: "max_age" }), 2);
  assert.deepEqual(run(40, "q failed", "q"), ["q failed"]);
});

Deno.test("fingers_crossed: records without the context value share one context", () => {
  const { run } = make({});
  run(10, "loose 1");
  run(10, "loose 2");
  assert.deepEqual(run(40, "error"), ["loose 1", "loose 2", "error"]);
});

Deno.test("fingers_crossed options: hold must be below trigger (a check error)", () => {
  const ctx = { issues: [] as { path: (string | number)[]; message: string }[] };
  fingersCrossed.options.parse({ hold: "error", trigger: "warn" }, ["processors", "f"], ctx);
  assert.deepEqual(ctx.issues.map((i) => [i.path.join("."), i.message]), [
    ["processors.f.hold", "hold (40) must be below trigger (30)"],
  ]);
});

Deno.test("fingers_crossed in a pipeline: a failing request's debug lines reach the sink, a good request's do not", async () => {
  const pipeline = await configure({
    loggers: { "": "debug" },
    sources: { app: { type: "logger" } },
    processors: { around: { type: "fingers_crossed", inputs: ["app"], by: "request_id" } },
    sinks: { out: { type: "memory", name: "fingers-e2e", inputs: ["around"], level: "debug" } },
  });
  try {
    const log = getLogger("web");
    await withContext({ request_id: "good" }, () => {
      log.debug("parsed body");
      log.info("200 OK");
    });
    await withContext({ request_id: "bad" }, () => {
      log.debug("parsed body");
      log.debug("query took 3 s");
      log.error("500 timeout");
    });
    assert.ok(await pipeline.flush());
    assert.deepEqual(
      memoryRecords("fingers-e2e").map((r) => `${r.fields.request_id} ${r.message}`),
      ["good 200 OK", "bad parsed body", "bad query took 3 s", "bad 500 timeout"],
    );
    const text = pipeline.metrics.render();
    assert.match(text, /sluice_records_held_total\{component="around"\} 3/);
    assert.match(text, /sluice_records_released_total\{component="around"\} 2/);
  } finally {
    await pipeline.shutdown();
  }
});

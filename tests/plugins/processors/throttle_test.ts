import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/load.ts";
import { createRecord, type LogRecord } from "../../../src/core/record.ts";
import { Metrics } from "../../../src/pipeline/metrics.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import { getLogger } from "../../../src/logger/logger.ts";
import { createThrottle, type ThrottleOptions } from "../../../plugins/processors/throttle.ts";
import throttle from "../../../plugins/processors/throttle.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";

/** A throttle on a controlled clock, with its counters in a real Metrics registry. */
function make(options: Partial<ThrottleOptions>) {
  const clock = { now: 0 };
  const metrics = new Metrics();
  const fn = createThrottle(
    { limit: 2, interval: 1000, by: ["message"], max_keys: 100, ...options },
    { id: "calm", counter: (name, help, labels = {}) => metrics.counter(name, help, labels) },
    () => clock.now,
  );
  /** Runs one record through and returns what came out, as a list. */
  const run = (record: LogRecord): LogRecord[] => {
    const out = fn(record);
    return out === null ? [] : Array.isArray(out) ? [...out] : [out as LogRecord];
  };
  return { clock, metrics, run };
}

const rec = (message: string, level = 20, fields = {}) =>
  createRecord({ message, level, logger: "app.db", fields });

Deno.test("throttle passes the first limit records of a key per interval and counts the rest", () => {
  const { metrics, run } = make({ limit: 2 });
  const passed = [];
  for (let i = 0; i < 10; i++) passed.push(...run(rec("disk full")));
  assert.equal(passed.length, 2);
  assert.equal(metrics.sum("records_throttled_total"), 8);
  assert.equal(run(rec("another key")).length, 1, "keys are throttled apart");
});

Deno.test("throttle: after the window, the next record brings a summary of what was dropped, first", () => {
  const { clock, metrics, run } = make({ limit: 1, interval: 1000 });
  run(rec("disk full", 30));
  run(rec("disk full", 40));
  run(rec("disk full", 30));
  clock.now = 999;
  assert.deepEqual(run(rec("disk full")), [], "still inside the window");
  clock.now = 1000;
  const next = rec("disk full", 20);
  const [summary, record, ...rest] = run(next);
  assert.equal(rest.length, 0);
  assert.equal(record, next);
  assert.equal(summary!.level, 40, "the summary has the highest level dropped");
  assert.equal(summary!.logger, "app.db");
  assert.equal(summary!.time, 1000);
  assert.equal(
    summary!.message,
    'throttle "calm": suppressed 3 records of "disk full" over 1 per 1000 ms',
  );
  assert.deepEqual(summary!.fields, {
    message: "disk full",
    throttled: 3,
    since: "1970-01-01T00:00:00.000Z",
  });
  assert.equal(metrics.sum("throttle_summaries_total"), 1);
  assert.equal(metrics.sum("records_throttled_total"), 3);
});

Deno.test("throttle: a summary rides on any later record, not only one of the same key", () => {
  const { clock, run } = make({ limit: 1 });
  run(rec("a"));
  run(rec("a"));
  clock.now = 5000;
  const out = run(rec("b"));
  assert.deepEqual(out.map((r) => r.message.startsWith("throttle") ? "summary" : r.message), [
    "summary",
    "b",
  ]);
  assert.equal(run(rec("a")).length, 1, "a's new window passes, with no second summary");
});

Deno.test("throttle keys by several values; by field and logger", () => {
  const { run } = make({ limit: 1, by: ["logger", "user"] });
  assert.equal(run(rec("x", 20, { user: "ada" })).length, 1);
  assert.equal(run(rec("y", 20, { user: "ada" })).length, 0, "same logger and user");
  assert.equal(run(rec("x", 20, { user: "bob" })).length, 1);
});

Deno.test("throttle forgets the key seen longest ago beyond max_keys, sending its summary at once", () => {
  const { metrics, run } = make({ limit: 1, max_keys: 2 });
  run(rec("a"));
  run(rec("a")); // dropped, summary pending
  run(rec("b"));
  const out = run(rec("c")); // a is forgotten
  assert.deepEqual(out.map((r) => r.fields.throttled ?? r.message), [1, "c"]);
  assert.equal(run(rec("a")).length, 1, "a starts afresh");
  assert.equal(metrics.sum("throttle_summaries_total"), 1);
});

Deno.test("throttle options: limit is required, interval must be positive, unknown keys named", () => {
  const issues = (raw: Record<string, unknown>) => {
    const ctx = { issues: [] as { path: (string | number)[]; message: string; hint?: string }[] };
    throttle.options.parse(raw, ["processors", "t"], ctx);
    return ctx.issues.map((i) => [i.path.join("."), i.message, i.hint]);
  };
  assert.deepEqual(issues({ limti: 3 }), [
    ["processors.t.limti", 'Unknown key "limti"', 'did you mean "limit"?'],
  ]);
  assert.deepEqual(issues({ limit: 3, interval: 0 }), [
    ["processors.t.interval", "interval must be longer than 0 ms, got 0", undefined],
  ]);
  assert.equal(issues({}).length, 1, "limit is required");
});

Deno.test("throttle in a pipeline: a flood of one message reaches the sink as limit records and a summary, counted in /metrics", async () => {
  const { config, formatters } = await loadConfig({
    sources: { app: { type: "logger" } },
    processors: { calm: { type: "throttle", inputs: ["app"], limit: 5, interval: "1h" } },
    sinks: { out: { type: "memory", name: "throttle-e2e", inputs: ["calm"] } },
  });
  const pipeline = await Pipeline.create(config, { formatters });
  try {
    await pipeline.start();
    const log = getLogger("flood");
    for (let i = 0; i < 1000; i++) log.error("upstream timeout");
    log.error("another message");
    assert.ok(await pipeline.flush());
    assert.equal(memoryRecords("throttle-e2e").length, 6);
    const text = pipeline.metrics.render();
    assert.match(text, /sluice_records_throttled_total\{component="calm"\} 995/);
    assert.equal(pipeline.metrics.sum("records_filtered_total", { component: "calm" }), 995);
  } finally {
    await pipeline.shutdown();
  }
});

import assert from "node:assert/strict";
import { loadConfig, memoryRecords, Pipeline, type PluginDefinition } from "../../mod.ts";
import { Metrics } from "../../src/pipeline/metrics.ts";
import type { Target } from "../../src/pipeline/target.ts";
import ingestSource from "../helpers/ingest_source.ts";
import { Tap, TapFilterError } from "../../src/pipeline/tap.ts";

async function pipelineOf(config: Record<string, unknown>): Promise<Pipeline> {
  const loaded = await loadConfig({ server: { listen: "127.0.0.1:0" }, ...config }, {
    plugins: [ingestSource] as PluginDefinition[],
  });
  return await Pipeline.create(loaded.config, { formatters: loaded.formatters });
}

async function post(pipeline: Pipeline, lines: string[]): Promise<void> {
  const route = pipeline.routes[0]!;
  const res = await route.handle(
    new Request("http://x/ingest", { method: "POST", body: lines.join("\n") }),
  );
  assert.equal(res.status, 202);
}

const CONFIG = {
  sources: { app: { type: "test_ingest" } },
  processors: {
    tagged: { type: "fields", inputs: ["app"], add: { service: "api" } },
  },
  sinks: {
    mem: { type: "memory", name: "tap-mem", inputs: ["tagged"] },
    loud: { type: "memory", name: "tap-loud", inputs: ["tagged"], level: "warn" },
  },
};

Deno.test("tap: every source's and processor's output by default, each record with its component", async () => {
  await using pipeline = await pipelineOf(CONFIG);
  const subscription = pipeline.tap.subscribe({}, 100);
  await post(pipeline, ["one", "two"]);
  const { records, lost } = subscription.take();
  assert.equal(lost, 0);
  assert.deepEqual(
    records.map((t) => [t.component, t.kind, t.record.message, t.record.fields.service]),
    [
      ["app", "source", "one", undefined],
      ["tagged", "processor", "one", "api"],
      ["app", "source", "two", undefined],
      ["tagged", "processor", "two", "api"],
    ],
  );
  subscription.close();
});

Deno.test("tap: a sink's id taps the records reaching it, at its level", async () => {
  await using pipeline = await pipelineOf(CONFIG);
  const subscription = pipeline.tap.subscribe({ components: ["loud"] }, 100);
  const route = pipeline.routes[0]!;
  await route.handle(new Request("http://x/ingest", { method: "POST", body: "quiet" }));
  assert.deepEqual(subscription.take().records, [], "an INFO record is below loud's level");
  subscription.close();
  const all = pipeline.tap.subscribe({ components: ["*"] }, 100);
  await post(pipeline, ["x"]);
  assert.deepEqual(all.take().records.map((t) => t.component).sort(), ["app", "mem", "tagged"]);
  all.close();
});

Deno.test("tap: level, logger and field filters", async () => {
  await using pipeline = await pipelineOf({
    sinks: { mem: { type: "memory", name: "tap-filters" } },
    sources: { app: { type: "test_ingest" } },
  });
  const byField = pipeline.tap.subscribe({ fields: [["service", "api"]] }, 100);
  const byLogger = pipeline.tap.subscribe({ logger: "ingest" }, 100);
  const byOtherLogger = pipeline.tap.subscribe({ logger: "ingestion" }, 100);
  const byLevel = pipeline.tap.subscribe({ level: 30 }, 100);
  await post(pipeline, ["a"]);
  assert.equal(byField.take().records.length, 0, "no service field");
  assert.equal(byLogger.take().records.length, 1);
  assert.equal(byOtherLogger.take().records.length, 0, "a prefix that is not a parent");
  assert.equal(byLevel.take().records.length, 0, "INFO is below WARN");
  for (const s of [byField, byLogger, byOtherLogger, byLevel]) s.close();
});

Deno.test("tap: a subscriber that does not take keeps `limit` records; the rest are dropped from it and counted, the sinks get everything", async () => {
  await using pipeline = await pipelineOf({
    sources: { app: { type: "test_ingest" } },
    sinks: { mem: { type: "memory", name: "tap-slow" } },
  });
  const slow = pipeline.tap.subscribe({}, 3);
  const fast = pipeline.tap.subscribe({}, 100);
  await post(pipeline, ["1", "2", "3", "4", "5"]);
  assert.equal(fast.take().records.length, 5);
  const { records, lost } = slow.take();
  assert.deepEqual(records.map((t) => t.record.message), ["1", "2", "3"]);
  assert.equal(lost, 2);
  assert.equal(pipeline.metrics.sum("tap_records_dropped_total"), 2);
  assert.equal(pipeline.metrics.sum("records_dropped_total"), 0, "the pipeline lost nothing");
  await pipeline.flush();
  assert.equal(memoryRecords("tap-slow").length, 5);
  assert.match(pipeline.metrics.render(), /sluice_tap_subscribers 2/);
  slow.close();
  fast.close();
  assert.match(pipeline.metrics.render(), /sluice_tap_subscribers 0/);
});

Deno.test("tap: nothing of it is on a record's path while nobody subscribes; a push loop already running keeps its targets", () => {
  const sink = { push() {} };
  const host = { targets: [sink] as Target[] };
  const tap = new Tap(new Metrics());
  tap.addPoint("app", "source", [host]);
  const before = host.targets;
  const first = tap.subscribe({}, 10);
  const second = tap.subscribe({}, 10);
  assert.equal(host.targets.length, 2, "one tap target however many subscribers");
  assert.deepEqual(before, [sink], "the array a running loop holds is never changed");
  first.close();
  assert.equal(host.targets.length, 2, "the second subscriber still taps");
  second.close();
  assert.deepEqual(host.targets, [sink]);
  assert.equal(tap.subscribers, 0);
});

Deno.test("tap: a name that matches no component is refused with a did-you-mean", async () => {
  await using pipeline = await pipelineOf(CONFIG);
  assert.throws(
    () => pipeline.tap.subscribe({ components: ["taged"] }, 10),
    (error: unknown) =>
      error instanceof TapFilterError &&
      /No component "taged" to tap; did you mean "tagged"\?/.test(error.message),
  );
  assert.equal(pipeline.tap.subscribers, 0);
});

Deno.test("tap: shutdown ends every subscription and refuses new ones", async () => {
  const pipeline = await pipelineOf(CONFIG);
  const subscription = pipeline.tap.subscribe({}, 10);
  let ended = false;
  subscription.onClose(() => ended = true);
  await pipeline.shutdown();
  assert.ok(ended && subscription.closed);
  assert.throws(() => pipeline.tap.subscribe({}, 10), /shutting down/);
});

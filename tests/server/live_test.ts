import assert from "node:assert/strict";
import { loadConfig, memoryRecords, Pipeline, type PluginDefinition } from "../../mod.ts";
import { createApp } from "../../src/server/app.ts";
import { serve } from "../../src/server/serve.ts";
import { type SseEvent, sseEvents } from "../../src/cli/sse_events.ts";
import ingestSource from "../helpers/ingest_source.ts";

const AUTH = { authorization: "Bearer s3cret-0123456789" };

async function served(name: string) {
  const loaded = await loadConfig({
    server: { listen: "127.0.0.1:0", token: "s3cret-0123456789" },
    sources: { app: { type: "test_ingest" } },
    processors: { tagged: { type: "fields", inputs: ["app"], add: { service: "api" } } },
    sinks: { mem: { type: "memory", name, inputs: ["tagged"] } },
  }, { plugins: [ingestSource] as PluginDefinition[] });
  const pipeline = await Pipeline.create(loaded.config, { formatters: loaded.formatters });
  const server = serve(createApp(pipeline), { port: 0, log: pipeline.log });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    pipeline,
    url,
    post: async (lines: string[]) => {
      const res = await fetch(`${url}/ingest`, {
        method: "POST",
        headers: AUTH,
        body: lines.join("\n"),
      });
      const text = await res.text();
      assert.equal(res.status, 202, text);
    },
    async [Symbol.asyncDispose]() {
      pipeline.tap.close();
      await server.shutdown();
      await pipeline.shutdown();
    },
  };
}

/** Reads events until `until` says stop (or 10 s pass). */
async function collect(
  body: ReadableStream<Uint8Array>,
  until: (events: SseEvent[]) => boolean,
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const iterator = sseEvents(body);
  const deadline = Date.now() + 10_000;
  while (!until(events)) {
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out; got ${
          JSON.stringify(events.filter((e) => e.event !== "components"))
        } and ${events.length} events in all`,
      );
    }
    const next = await iterator.next();
    if (next.done) break;
    events.push(next.value);
  }
  await iterator.return(undefined);
  return events;
}

Deno.test("GET /live: the token is required; a bad query is answered 400 naming the parameter", async () => {
  await using s = await served("live-auth");
  const denied = await fetch(`${s.url}/live`);
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  for (
    const [query, message] of [
      ["events=recrods", /Unknown event "recrods" in events=; did you mean "records"\?/],
      ["events=records&component=taged", /No component "taged" to tap; did you mean "tagged"\?/],
      ["level=loud", /Invalid level "loud"/],
      ["field=service", /Invalid field "service"; expected key=value/],
      ["interval=10ms", /Invalid interval "10ms"/],
      ["limit=0", /Invalid limit "0"/],
    ] as const
  ) {
    const res = await fetch(`${s.url}/live?${query}`, { headers: AUTH });
    assert.equal(res.status, 400, query);
    assert.match((await res.json()).error, message);
  }
  assert.equal(s.pipeline.tap.subscribers, 0);
});

Deno.test("GET /live?events=records,components: tapped records as JSON events, then counters with rates", async () => {
  await using s = await served("live-records");
  const res = await fetch(
    `${s.url}/live?events=records,components&interval=200ms&field=service=api`,
    {
      headers: AUTH,
    },
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reading = collect(res.body!, (events) => {
    const components = events.filter((e) => e.event === "components").map((e) =>
      JSON.parse(e.data)
    );
    return events.some((e) => e.event === "record") &&
      components.some((c) =>
        c.components.find((x: { id: string }) => x.id === "mem")?.records_in === 2
      );
  });
  await s.post(["paid", "refunded"]);
  const events = await reading;
  assert.equal(events[0]!.event, "hello");
  assert.deepEqual(JSON.parse(events[0]!.data).components, [
    { id: "app", kind: "source" },
    { id: "tagged", kind: "processor" },
    { id: "mem", kind: "sink" },
  ]);
  const records = events.filter((e) => e.event === "record").map((e) => JSON.parse(e.data));
  assert.deepEqual(
    records.map((r) => [r.component, r.kind, r.level, r.logger, r.message, r.fields]),
    [
      ["tagged", "processor", "INFO", "ingest", "paid", { service: "api" }],
      ["tagged", "processor", "INFO", "ingest", "refunded", { service: "api" }],
    ],
    "only the processor's output has service=api",
  );
  assert.match(records[0].time, /^\d{4}-\d\d-\d\dT/);
  const snapshots = events.filter((e) => e.event === "components").map((e) => JSON.parse(e.data));
  const last = snapshots.at(-1).components;
  const app = last.find((c: { id: string }) => c.id === "app");
  assert.equal(app.kind, "source");
  assert.equal(app.records_in, 2);
  const mem = last.find((c: { id: string }) => c.id === "mem");
  assert.equal(mem.queue_depth + mem.records_out, 2);
  assert.equal(typeof mem.in_per_sec, "number", "a later snapshot has rates");
  assert.equal(snapshots[0].components[0].in_per_sec, undefined, "the first has none");
});

Deno.test("GET /live: a client that stops reading is dropped from (counted), the pipeline delivers everything, /metrics shows it", async () => {
  await using s = await served("live-slow");
  // A raw connection that asks for every record and never reads its answer.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(s.url).port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /live?events=records&limit=100 HTTP/1.1\r\nhost: x\r\nauthorization: ${AUTH.authorization}\r\n\r\n`,
      ),
    );
    const deadline = Date.now() + 5_000;
    while (s.pipeline.tap.subscribers === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const line = "x".repeat(400);
    const batches = 40;
    for (let i = 0; i < batches; i++) {
      await s.post(Array.from({ length: 1000 }, (_, n) => `${i}-${n} ${line}`));
      // Let the stream's flush timer run between batches.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await s.pipeline.flush();
    assert.equal(memoryRecords("live-slow").length, batches * 1000, "nothing lost in the pipeline");
    assert.equal(s.pipeline.metrics.sum("records_dropped_total"), 0);
    const dropped = s.pipeline.metrics.sum("tap_records_dropped_total");
    assert.ok(dropped > 0, "the slow client was dropped from");
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: AUTH })).text();
    assert.match(metrics, /sluice_tap_records_dropped_total [1-9]\d*/);
    assert.match(metrics, /sluice_tap_subscribers 1/);
  } finally {
    conn.close();
  }
});

Deno.test("GET /live: the stream ends when the pipeline's tap closes (shutdown), so the server stops at once", async () => {
  await using s = await served("live-end");
  const res = await fetch(`${s.url}/live?events=components`, { headers: AUTH });
  const reader = sseEvents(res.body!);
  assert.equal((await reader.next()).value?.event, "hello");
  s.pipeline.tap.close();
  const rest: string[] = [];
  for await (const event of reader) rest.push(event.event);
  assert.ok(rest.every((e) => e === "components"));
  const refused = await fetch(`${s.url}/live`, { headers: AUTH });
  assert.equal(refused.status, 503);
  await refused.body?.cancel();
});

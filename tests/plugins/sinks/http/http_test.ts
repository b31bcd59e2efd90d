import assert from "node:assert/strict";
import httpSink from "../../../../plugins/sinks/http/mod.ts";
import { memoryRecords } from "../../../../plugins/sinks/memory.ts";
import { getLogger } from "../../../../src/logger/logger.ts";
import { counter, startPipeline, waitFor } from "../../../helpers/net_pipeline.ts";

/** A local HTTP receiver whose answers the test scripts, keeping what it accepted. */
class Receiver implements AsyncDisposable {
  /** Bodies of the requests it answered with 2xx, decoded (gunzipped when needed). */
  readonly accepted: string[] = [];
  /** Every request: when it arrived, its status, and its headers. */
  readonly log: { at: number; status: number; headers: Headers; path: string }[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(answer: (n: number, body: string) => Response | Promise<Response>) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        const n = this.log.length;
        const bytes = await request.bytes();
        const body = request.headers.get("content-encoding") === "gzip"
          ? await new Response(
            new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
          )
            .text()
          : new TextDecoder().decode(bytes);
        const path = new URL(request.url).pathname;
        const entry = { at: Date.now(), status: 0, headers: request.headers, path };
        this.log.push(entry);
        const response = await answer(n, body);
        entry.status = response.status;
        if (response.ok) this.accepted.push(body);
        return response;
      },
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }
}

Deno.test("http sink delivers every record exactly once through 503s, a 429 with Retry-After, 500s and recovery, gzipped in bounded requests", async () => {
  await using receiver = new Receiver((n) => {
    if (n < 2) return new Response("unavailable", { status: 503 });
    if (n === 2) return new Response("slow down", { status: 429, headers: { "retry-after": "1" } });
    if (n % 5 === 0) return new Response("oops", { status: 500 });
    return new Response(null, { status: 204 });
  });
  const pipeline = await startPipeline({
    sources: { app: { type: "logger" } },
    sinks: {
      collector: {
        type: "http",
        url: `${receiver.url}/ingest?token=secret`,
        compression: "gzip",
        headers: { Authorization: "Bearer t0ken" },
        batch: { max_records: 100, max_bytes: "6KiB" },
        retry: { initial: "20ms", max: "200ms", max_elapsed: "60s" },
      },
    },
  }, [httpSink]);
  const n = 3000;
  try {
    const log = getLogger("http.retry");
    for (let i = 0; i < n; i++) {
      log.info(`record ${i}`, { id: i, pad: "x".repeat(i % 50) });
      if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(await pipeline.flush(60_000), "flushed");
    const seen = new Map<number, number>();
    for (const body of receiver.accepted) {
      assert.ok(new TextEncoder().encode(body).length <= 6 * 1024, "request within max_bytes");
      const lines = body.split("\n");
      assert.equal(lines.pop(), "");
      assert.ok(lines.length <= 100, "request within max_records");
      for (const line of lines) {
        const id = JSON.parse(line).id as number;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    }
    assert.equal(seen.size, n, "every record arrived");
    assert.ok([...seen.values()].every((count) => count === 1), "and exactly once");
    assert.equal(counter(pipeline, "records_out_total", { component: "collector" }), n);
    assert.equal(counter(pipeline, "records_dropped_total"), 0);
    for (const entry of receiver.log) {
      assert.equal(entry.headers.get("authorization"), "Bearer t0ken");
      assert.equal(entry.headers.get("content-type"), "application/x-ndjson");
      assert.equal(entry.headers.get("content-encoding"), "gzip");
    }
    const statuses = receiver.log.map((e) => e.status);
    assert.deepEqual(statuses.slice(0, 3), [503, 503, 429]);
    assert.ok(receiver.log[3]!.at - receiver.log[2]!.at >= 950, "waited as Retry-After asked");
    const failures = statuses.filter((s) => s >= 500 || s === 429).length;
    assert.equal(counter(pipeline, "http_retries_total"), failures, "each failure retried once");
    assert.equal(
      counter(pipeline, "http_client_requests_total", { status: "500" }),
      statuses.filter((s) => s === 500).length,
    );
  } finally {
    await pipeline.shutdown();
  }
});

Deno.test("http sink sends 4xx-refused records to the fallback sink without retrying them", async () => {
  await using receiver = new Receiver((_n, body) =>
    body.includes('"bad":true')
      ? new Response("field bad is not allowed", { status: 422 })
      : new Response(null, { status: 200 })
  );
  const store = "http_dead_letters";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: {
      app: { type: "logger", logger: "http.fallback" },
      nothing: { type: "logger", logger: "no.records.come.here" },
    },
    sinks: {
      collector: {
        type: "http",
        url: `${receiver.url}/ingest`,
        inputs: ["app"],
        fallback: "dead",
        retry: { initial: "10ms", max: "50ms" },
      },
      dead: { type: "memory", name: store, inputs: ["nothing"] },
    },
  }, [httpSink]);
  try {
    const log = getLogger("http.fallback");
    for (let i = 0; i < 100; i++) log.info("good", { id: i });
    assert.ok(await pipeline.flush());
    for (let i = 100; i < 110; i++) log.info("bad", { id: i, bad: true });
    assert.ok(await pipeline.flush());
    for (let i = 110; i < 210; i++) log.info("good", { id: i });
    assert.ok(await pipeline.flush());
    const delivered = receiver.accepted.flatMap((b) => b.trim().split("\n")).map((l) =>
      JSON.parse(l).id
    );
    assert.deepEqual(delivered.sort((a, b) => a - b), [
      ...Array.from({ length: 100 }, (_, i) => i),
      ...Array.from({ length: 100 }, (_, i) => i + 110),
    ]);
    assert.deepEqual(
      memoryRecords(store).map((r) => r.fields.id),
      Array.from({ length: 10 }, (_, i) => i + 100),
    );
    assert.equal(receiver.log.filter((e) => e.status === 422).length, 1, "a 4xx is not retried");
    assert.equal(counter(pipeline, "records_to_fallback_total", { component: "collector" }), 10);
    assert.equal(counter(pipeline, "records_out_total", { component: "collector" }), 200);
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("http sink hands a batch back after retry.max_elapsed and the fallback takes it after fallback_after; delivery resumes when the receiver recovers", async () => {
  let down = true;
  await using receiver = new Receiver(() =>
    down ? new Response("down", { status: 503 }) : new Response(null, { status: 200 })
  );
  const store = "http_outage_fallback";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: {
      app: { type: "logger", logger: "http.outage" },
      nothing: { type: "logger", logger: "no.records.come.here" },
    },
    sinks: {
      collector: {
        type: "http",
        url: `${receiver.url}/ingest`,
        inputs: ["app"],
        fallback: "dead",
        fallback_after: "300ms",
        retry: { initial: "10ms", max: "50ms", max_elapsed: "100ms" },
      },
      dead: { type: "memory", name: store, inputs: ["nothing"] },
    },
  }, [httpSink]);
  try {
    const log = getLogger("http.outage");
    for (let i = 0; i < 50; i++) log.info("during outage", { id: i });
    await waitFor(
      () => memoryRecords(store).length === 50,
      () => `${memoryRecords(store).length} in fallback`,
    );
    down = false;
    for (let i = 50; i < 100; i++) log.info("after recovery", { id: i });
    assert.ok(await pipeline.flush(10_000));
    const delivered = receiver.accepted.flatMap((b) => b.trim().split("\n")).map((l) =>
      JSON.parse(l).id
    );
    assert.deepEqual(delivered.sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 50));
    assert.deepEqual(
      memoryRecords(store).map((r) => r.fields.id),
      Array.from({ length: 50 }, (_, i) => i),
    );
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("http sink posts each preset's payload: otlp, loki, elasticsearch with a per-item failure, json_array", async () => {
  let esCalls = 0;
  await using receiver = new Receiver(() => new Response(null, { status: 200 }));
  // A second receiver for Elasticsearch, which answers per item: the first request's second
  // item is busy (429), the bulk request holding "second" has it refused (400).
  await using es = new Receiver((_n, body) => {
    esCalls++;
    const docs = body.trim().split("\n").filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l));
    return Response.json({
      errors: esCalls === 1 || docs.some((d) => d.message === "second"),
      items: docs.map((doc, i) =>
        esCalls === 1 && i === 1
          ? { create: { status: 429, error: { type: "es_rejected_execution_exception" } } }
          : doc.message === "second"
          ? { create: { status: 400, error: { type: "mapper_parsing_exception", reason: "bad" } } }
          : { create: { status: 201 } }
      ),
    });
  });
  const store = "http_es_dead";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: {
      app: { type: "logger", logger: "presets" },
      nothing: { type: "logger", logger: "no.records.come.here" },
    },
    sinks: {
      otlp: {
        type: "http",
        url: `${receiver.url}/v1/logs`,
        preset: "otlp",
        inputs: ["app"],
        otlp: { resource: { "service.name": "shop" } },
      },
      loki: {
        type: "http",
        url: `${receiver.url}/loki/api/v1/push`,
        preset: "loki",
        inputs: ["app"],
        loki: { labels: ["level", "service"], static_labels: { job: "test" } },
      },
      array: { type: "http", url: `${receiver.url}/array`, preset: "json_array", inputs: ["app"] },
      es: {
        type: "http",
        url: `${es.url}/_bulk`,
        preset: "elasticsearch",
        inputs: ["app"],
        fallback: "dead",
        retry: { initial: "10ms" },
        elasticsearch: { index: "logs-shop" },
      },
      dead: { type: "memory", name: store, inputs: ["nothing"] },
    },
  }, [httpSink]);
  try {
    const log = getLogger("presets.checkout");
    log.info("first", { service: "shop", n: 1 });
    log.warn("third", { service: "shop", n: 3 });
    assert.ok(await pipeline.flush());
    log.error("second", { service: "shop", n: 2 });
    assert.ok(await pipeline.flush());
    const json = receiver.accepted.map((b) => JSON.parse(b));
    assert.equal(json.length, 6, "otlp, loki and json_array: two requests each");
    const otlp = json.filter((b) => b.resourceLogs);
    assert.deepEqual(otlp[0].resourceLogs[0].resource.attributes, [
      { key: "service.name", value: { stringValue: "shop" } },
    ]);
    assert.equal(otlp[0].resourceLogs[0].scopeLogs[0].scope.name, "presets.checkout");
    assert.deepEqual(
      otlp.flatMap((b) => b.resourceLogs[0].scopeLogs[0].logRecords).map((
        r: { severityNumber: number; body: { stringValue: string } },
      ) => [r.severityNumber, r.body.stringValue]),
      [[9, "first"], [13, "third"], [17, "second"]],
    );
    const loki = json.filter((b) => b.streams).flatMap((b) => b.streams);
    assert.deepEqual(
      loki.map((
        s: { stream: Record<string, string> },
      ) => [s.stream.level, s.stream.service, s.stream.job]),
      [["info", "shop", "test"], ["warn", "shop", "test"], ["error", "shop", "test"]],
    );
    assert.equal(JSON.parse(loki[0].values[0][1]).message, "first");
    const array = json.filter((b) => Array.isArray(b)).flat();
    assert.deepEqual(array.map((r: { n: number }) => r.n), [1, 3, 2]);
    // Elasticsearch: "third" was busy and sent again alone; "second" was refused for good.
    assert.equal(esCalls, 3);
    const docs = es.accepted.map((b) =>
      b.trim().split("\n").filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l).message)
    );
    assert.deepEqual(docs, [["first", "third"], ["third"], ["second"]]);
    assert.deepEqual(memoryRecords(store).map((r) => r.message), ["second"]);
    assert.equal(counter(pipeline, "records_to_fallback_total", { component: "es" }), 1);
    assert.equal(counter(pipeline, "records_out_total", { component: "es" }), 2);
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("http sink presets ndjson, json_array and loki without format: write exactly what format: json writes", async () => {
  await using receiver = new Receiver(() => new Response(null, { status: 200 }));
  const sinks: Record<string, unknown> = {};
  for (const preset of ["ndjson", "json_array", "loki"]) {
    for (const explicit of [false, true]) {
      sinks[`${preset}_${explicit ? "json" : "default"}`] = {
        type: "http",
        url: `${receiver.url}/${preset}/${explicit ? "json" : "default"}`,
        preset,
        inputs: ["app"],
        ...(explicit ? { format: "json" } : {}),
      };
    }
  }
  const pipeline = await startPipeline({
    sources: { app: { type: "logger", logger: "defaults" } },
    sinks,
  }, [httpSink]);
  try {
    getLogger("defaults.app").info("same", { n: 1 });
    assert.ok(await pipeline.flush());
  } finally {
    await pipeline.shutdown();
  }
  assert.equal(receiver.accepted.length, 6);
  const byPath = new Map<string, string>();
  for (const [i, body] of receiver.accepted.entries()) {
    byPath.set(receiver.log.filter((e) => e.status === 200)[i]!.path, body);
  }
  for (const preset of ["ndjson", "json_array", "loki"]) {
    const implicit = byPath.get(`/${preset}/default`)!;
    assert.equal(implicit, byPath.get(`/${preset}/json`), preset);
    assert.match(implicit, /\\?"time\\?":\\?"\d{4}-\d\d-\d\dT/, `${preset} writes an ISO time`);
  }
});

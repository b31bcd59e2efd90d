import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/load.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import type { PluginDefinition } from "../../../src/plugin/types.ts";
import { s } from "../../../src/schema/schema.ts";
import { createApp } from "../../../src/server/app.ts";
import { serve } from "../../../src/server/serve.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";
import { python3, skipWithout } from "../../helpers/peers.ts";

interface Running extends AsyncDisposable {
  pipeline: Pipeline;
  url: string;
  records: LogRecord[];
}

let stores = 0;

/** A real pipeline with an `http` source (`ingest`) behind the real Sluice server on a free port. */
async function start(
  source: Record<string, unknown> = {},
  sink: Record<string, unknown> = { type: "memory" },
  plugins: PluginDefinition[] = [],
): Promise<Running> {
  const store = `http-test-${++stores}`;
  const { config, formatters } = await loadConfig({
    server: { listen: "127.0.0.1:0", rate_limit: { requests_per_second: 0 } },
    sources: { ingest: { type: "http", ...source } },
    sinks: { out: sink.type === "memory" ? { ...sink, name: store } : sink },
  }, { plugins });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  const stop = new AbortController();
  const server = serve(createApp(pipeline), { port: 0, signal: stop.signal });
  const path = (source.path as string | undefined) ?? "/ingest";
  return {
    pipeline,
    url: `http://127.0.0.1:${server.addr.port}${path}`,
    records: memoryRecords(store),
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server.finished;
      await pipeline.shutdown();
    },
  };
}

async function post(
  url: string,
  body: BodyInit,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", body, headers });
  return { status: res.status, json: await res.json() };
}

async function gzip(data: string | Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(stream).bytes();
}

const NDJSON = { "content-type": "application/x-ndjson" };

Deno.test("http accepts an NDJSON body and answers 200 {accepted} with every record in the pipeline", async () => {
  await using server = await start();
  const body = [
    { time: "2024-05-01T10:00:00Z", level: "warn", logger: "api", message: "slow", ms: 900 },
    { level: "error", name: "db", msg: "down", error: { name: "Timeout", message: "5s" } },
    { message: "plain" },
  ].map((o) => JSON.stringify(o)).join("\n") + "\n";
  const res = await post(server.url, body, NDJSON);
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { accepted: 3 });
  assert.ok(await server.pipeline.flush());
  const [slow, down, plain] = server.records;
  assert.deepEqual(
    [slow!.time, slow!.level, slow!.logger, slow!.message, slow!.fields],
    [Date.parse("2024-05-01T10:00:00Z"), 30, "api", "slow", { ms: 900 }],
  );
  assert.deepEqual([down!.level, down!.logger, down!.message], [40, "db", "down"]);
  assert.deepEqual(down!.error, { name: "Timeout", message: "5s" });
  assert.equal(plain!.level, 20);
  assert.equal(server.pipeline.metrics.sum("records_in_total", { component: "ingest" }), 3);
});

Deno.test("http accepts a JSON array, a single JSON object, and sniffs bodies without a JSON content type", async () => {
  await using server = await start();
  const array = await post(server.url, JSON.stringify([{ msg: "a1" }, { msg: "a2" }]), {
    "content-type": "application/json",
  });
  assert.deepEqual([array.status, array.json], [200, { accepted: 2 }]);
  const pretty = JSON.stringify({ msg: "single", nested: { k: 1 } }, null, 2);
  const single = await post(server.url, pretty, {
    "content-type": "application/json; charset=utf-8",
  });
  assert.deepEqual([single.status, single.json], [200, { accepted: 1 }]);
  // curl --data-binary without -H sends application/x-www-form-urlencoded.
  const curl = await post(server.url, '{"msg":"c1"}\n{"msg":"c2"}\n', {
    "content-type": "application/x-www-form-urlencoded",
  });
  assert.deepEqual([curl.status, curl.json], [200, { accepted: 2 }]);
  const ndjsonAsJson = await post(server.url, '{"msg":"j1"}\n{"msg":"j2"}', {
    "content-type": "application/json",
  });
  assert.deepEqual([ndjsonAsJson.status, ndjsonAsJson.json], [200, { accepted: 2 }]);
  const empty = await post(server.url, "", NDJSON);
  assert.deepEqual([empty.status, empty.json], [200, { accepted: 0 }]);
  assert.ok(await server.pipeline.flush());
  assert.deepEqual(server.records.map((r) => r.message), [
    "a1",
    "a2",
    "single",
    "c1",
    "c2",
    "j1",
    "j2",
  ]);
  assert.deepEqual(server.records[2]!.fields, { nested: { k: 1 } });
});

Deno.test("http answers 400 with line numbers and reasons for malformed lines, and accepts the valid lines around them", async () => {
  await using server = await start();
  const body = '{"msg":"one"}\n{"msg":\n{"msg":"three"}\n"just a string"\n\n{"msg":"six"}\n';
  const res = await post(server.url, body, NDJSON);
  assert.equal(res.status, 400);
  assert.equal(res.json.accepted, 3);
  assert.equal(res.json.rejected, 2);
  const errors = res.json.errors as { line: number; reason: string; message: string }[];
  assert.deepEqual(errors.map((e) => [e.line, e.reason]), [[2, "invalid_json"], [
    4,
    "not_an_object",
  ]]);
  assert.match(errors[0]!.message, /^Invalid JSON/);
  assert.ok(await server.pipeline.flush());
  assert.deepEqual(server.records.map((r) => r.message), ["one", "three", "six"]);
  const m = server.pipeline.metrics;
  assert.equal(m.sum("records_rejected_total", { component: "ingest", reason: "invalid_json" }), 1);
  assert.equal(
    m.sum("records_rejected_total", { component: "ingest", reason: "not_an_object" }),
    1,
  );
  assert.match(
    m.render(),
    /sluice_records_rejected_total\{component="ingest",reason="invalid_json"\} 1/,
  );
});

Deno.test("http rejects array items that are not objects by index, and unreadable documents whole", async () => {
  await using server = await start();
  const mixed = await post(server.url, '[{"msg":"ok"}, 42, null, {"msg":"ok2"}]', {
    "content-type": "application/json",
  });
  assert.equal(mixed.status, 400);
  assert.deepEqual(
    [
      mixed.json.accepted,
      mixed.json.rejected,
      (mixed.json.errors as { index: number }[]).map((e) => e.index),
    ],
    [2, 2, [1, 2]],
  );
  const broken = await post(server.url, '[{"msg":"ok"},', { "content-type": "application/json" });
  assert.equal(broken.status, 400);
  assert.equal(broken.json.accepted, 0);
  assert.equal((broken.json.errors as { reason: string }[])[0]!.reason, "invalid_json");
  const scalar = await post(server.url, "42", { "content-type": "application/json" });
  assert.equal(scalar.status, 400);
  const notUtf8 = await post(server.url, new Uint8Array([0x7b, 0xff, 0x7d]), {
    "content-type": "application/json",
  });
  assert.deepEqual([notUtf8.status, (notUtf8.json.errors as { reason: string }[])[0]!.reason], [
    400,
    "invalid_utf8",
  ]);
  const m = server.pipeline.metrics;
  assert.equal(
    m.sum("records_rejected_total", { component: "ingest", reason: "not_an_object" }),
    3,
  );
  assert.equal(m.sum("records_rejected_total", { component: "ingest", reason: "invalid_json" }), 1);
  assert.ok(await server.pipeline.flush());
  assert.deepEqual(server.records.map((r) => r.message), ["ok", "ok2"]);
});

Deno.test("http decompresses gzip bodies, bounds the sent size by max_body_bytes and the inflated size by max_inflated_bytes", async () => {
  await using server = await start({ max_body_bytes: "64KiB", max_inflated_bytes: "64KiB" });
  const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ msg: `z${i}` })).join("\n");
  const ok = await post(server.url, await gzip(lines), { ...NDJSON, "content-encoding": "gzip" });
  assert.deepEqual([ok.status, ok.json], [200, { accepted: 500 }]);
  // 10 MiB of zeros compress to ~10 KiB: the limit applies to what comes out.
  const bomb = await gzip(new Uint8Array(10 * 1024 * 1024));
  assert.ok(bomb.length < 64 * 1024);
  const big = await post(server.url, bomb, { ...NDJSON, "content-encoding": "gzip" });
  assert.equal(big.status, 413);
  const plain = await post(server.url, "x".repeat(70 * 1024), NDJSON);
  assert.equal(plain.status, 413);
  const garbage = await post(server.url, "not gzip at all", {
    ...NDJSON,
    "content-encoding": "gzip",
  });
  assert.deepEqual([garbage.status, (garbage.json.errors as { reason: string }[])[0]!.reason], [
    400,
    "invalid_encoding",
  ]);
  const brotli = await post(server.url, "x", { ...NDJSON, "content-encoding": "br" });
  assert.equal(brotli.status, 415);
  const m = server.pipeline.metrics;
  assert.equal(
    m.sum("records_rejected_total", { component: "ingest", reason: "body_too_large" }),
    1,
  );
  assert.equal(
    m.sum("records_rejected_total", { component: "ingest", reason: "inflated_too_large" }),
    1,
  );
  assert.ok(await server.pipeline.flush());
  assert.equal(server.records.length, 500);
});

Deno.test("http answers 2xx only once the records are queued: a full sink queue holds the response", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let writing!: () => void;
  const firstWrite = new Promise<void>((resolve) => writing = resolve);
  const delivered: LogRecord[] = [];
  const gated = definePlugin({
    kind: "sink",
    type: "gated",
    description: "Blocks writes until the test opens the gate.",
    options: s.object({}),
    create: () => ({
      async write(records) {
        writing();
        await gate;
        delivered.push(...records);
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    }),
  }) as unknown as PluginDefinition;
  await using server = await start({}, { type: "gated", buffer: { max_records: 10 } }, [gated]);
  try {
    const first = await post(server.url, '{"msg":"fills"}\n'.repeat(10), NDJSON);
    assert.equal(first.status, 200, "a batch that fits is answered at once");
    await firstWrite;
    let answered = false;
    // The first batch is in the blocked write; these 15 fill the queue past its bound of 10.
    const second = post(server.url, '{"msg":"waits"}\n'.repeat(15), NDJSON).then((r) => {
      answered = true;
      return r;
    });
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(answered, false, "no answer while the records cannot be queued below the bound");
    release();
    const res = await second;
    assert.deepEqual([res.status, res.json], [200, { accepted: 15 }]);
    assert.ok(await server.pipeline.flush());
    assert.equal(delivered.length, 25);
  } finally {
    release();
  }
});

Deno.test("http answers 503 and accepts nothing once the pipeline is shutting down", async () => {
  const { config, formatters } = await loadConfig({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "http" } },
    sinks: { out: { type: "memory", name: "http-test-closed" } },
  });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  const route = pipeline.routes[0]!;
  assert.deepEqual([route.path, [...route.methods]], ["/ingest", ["POST", "GET"]]);
  await pipeline.shutdown();
  const res = await route.handle(
    new Request("http://x/ingest", { method: "POST", body: '{"msg":"late"}' }),
  );
  assert.equal(res.status, 503);
  assert.equal((await res.json()).accepted, 0);
  assert.equal(memoryRecords("http-test-closed").length, 0);
});

Deno.test("http refuses with 503 a request whose body was still arriving when shutdown began", async () => {
  const { config, formatters } = await loadConfig({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "http" } },
    sinks: { out: { type: "memory", name: "http-test-mid-shutdown" } },
  });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  let body!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (body = c) });
  const response = pipeline.routes[0]!.handle(
    new Request("http://x/ingest", {
      method: "POST",
      body: stream,
      headers: { "content-type": "application/x-ndjson" },
    }),
  );
  body.enqueue(new TextEncoder().encode('{"msg":"first"}\n'));
  await pipeline.shutdown();
  body.enqueue(new TextEncoder().encode('{"msg":"second"}\n'));
  body.close();
  const res = await response;
  assert.equal(res.status, 503, "a 2xx would promise records the closed queues may not deliver");
  await res.body?.cancel();
  assert.equal(memoryRecords("http-test-mid-shutdown").length, 0);
});

Deno.test("http without a server section is a config error naming the source", async () => {
  await assert.rejects(
    loadConfig({ sources: { ingest: { type: "http" } }, sinks: { out: { type: "memory" } } }),
    /Source "ingest".* is served by the Sluice server, but there is no server section/,
  );
});

Deno.test("http rejects a form or query that is not a Python LogRecord", async () => {
  await using server = await start();
  const form = await post(server.url, "a=1&b=2", {
    "content-type": "application/x-www-form-urlencoded",
  });
  assert.deepEqual([form.status, (form.json.errors as { reason: string }[])[0]!.reason], [
    400,
    "not_a_log_record",
  ]);
  const get = await fetch(server.url);
  assert.equal(get.status, 400);
  await get.body?.cancel();
  assert.equal(
    server.pipeline.metrics.sum("records_rejected_total", { reason: "not_a_log_record" }),
    2,
  );
});

const PYTHON = python3();

/** Runs a Python script that logs through logging.handlers.HTTPHandler to `host`/`path`. */
async function runPython(code: string): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(PYTHON.command, {
    args: ["-c", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.ok(success, `python3 failed: ${err}`);
  assert.equal(err, "", "HTTPHandler reports failures on stderr");
  return new TextDecoder().decode(stdout);
}

Deno.test({
  name:
    "http receives 10,000 records from Python's HTTPHandler (POST) with level, message, time and extra fields intact",
  ignore: skipWithout(PYTHON),
  async fn() {
    await using server = await start();
    const url = new URL(server.url);
    const before = Date.now();
    await runPython(`
import logging, logging.handlers
handler = logging.handlers.HTTPHandler("${url.host}", "${url.pathname}", method="POST")
log = logging.getLogger("shop.orders")
log.setLevel(logging.DEBUG)
log.propagate = False
log.addHandler(handler)
levels = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
def place(i):
    log.log(levels[i % 5], "order %d for %s: %.2f EUR", i, "ada", i / 4,
            extra={"order_id": i, "customer": "Zoë & co", "tags": "a=b&c"})
for i in range(10000):
    place(i)
`);
    const after = Date.now();
    assert.ok(await server.pipeline.flush());
    const records = server.records;
    assert.equal(records.length, 10_000);
    const levels = [10, 20, 30, 40, 50];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      assert.equal(r.logger, "shop.orders");
      assert.equal(r.level, levels[i % 5]);
      assert.equal(r.message, `order ${i} for ada: ${(i / 4).toFixed(2)} EUR`);
      assert.ok(r.time >= before - 1 && r.time <= after + 1, `time ${r.time} of record ${i}`);
      assert.equal(r.fields.order_id, String(i));
      assert.equal(r.fields.customer, "Zoë & co");
      assert.equal(r.fields.tags, "a=b&c");
      const python = r.fields.python as Record<string, unknown>;
      assert.equal(python.funcName, "place");
      assert.equal(typeof python.lineno, "number");
      assert.equal(r.error, undefined);
    }
    assert.equal(server.pipeline.metrics.sum("records_rejected_total"), 0);
  },
});

Deno.test({
  name: "http receives Python's HTTPHandler GET requests and its exceptions",
  ignore: skipWithout(PYTHON),
  async fn() {
    await using server = await start();
    const url = new URL(server.url);
    await runPython(`
import logging, logging.handlers
handler = logging.handlers.HTTPHandler("${url.host}", "${url.pathname}", method="GET")
log = logging.getLogger("billing")
log.propagate = False
log.addHandler(handler)
for i in range(500):
    log.warning("retry %(n)s of %(of)s", {"n": i, "of": 500}, extra={"attempt": i})
try:
    raise KeyError("card-42")
except KeyError:
    log.exception("charge failed for %s", "ada")
`);
    assert.ok(await server.pipeline.flush());
    const records = server.records;
    assert.equal(records.length, 501);
    for (let i = 0; i < 500; i++) {
      assert.equal(records[i]!.message, `retry ${i} of 500`);
      assert.equal(records[i]!.level, 30);
      assert.equal(records[i]!.fields.attempt, String(i));
    }
    const failure = records[500]!;
    assert.equal(failure.message, "charge failed for ada");
    assert.equal(failure.level, 40);
    assert.deepEqual(failure.error, { name: "KeyError", message: "card-42" });
  },
});

Deno.test("http: records with an unusable time (1e300, 8.7e15) are written with the raw time in a field, never acknowledged and lost", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/out.log`;
    {
      await using server = await start({}, { type: "file", path, format: "json" });
      const body = [
        { time: 1e300, message: "far future" },
        { time: 8.7e15, message: "just past Date's range" },
        { time: "2024-05-01T10:00:00Z", message: "fine" },
      ].map((o) => JSON.stringify(o)).join("\n");
      const res = await post(server.url, body, NDJSON);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { accepted: 3 });
      assert.ok(await server.pipeline.flush());
      const metrics = server.pipeline.metrics;
      assert.equal(metrics.sum("format_errors_total"), 0);
      assert.equal(metrics.sum("records_out_total", { component: "out" }), 3);
    }
    const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.message), ["far future", "just past Date's range", "fine"]);
    assert.equal(lines[0]["fields.time"], 1e300);
    assert.equal(lines[1]["fields.time"], 8.7e15);
    assert.equal(lines[2].time, "2024-05-01T10:00:00.000Z");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

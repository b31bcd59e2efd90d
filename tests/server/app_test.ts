import assert from "node:assert/strict";
import {
  definePlugin,
  loadConfig,
  memoryRecords,
  Pipeline,
  type PluginDefinition,
  s,
} from "../../mod.ts";
import { createApp, SECURITY_HEADERS } from "../../src/server/app.ts";
import failingSink from "../helpers/failing_sink.ts";
import ingestSource from "../helpers/ingest_source.ts";

/** A sink whose writes wait until the test releases them. */
function heldSink() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const definition = definePlugin({
    kind: "sink",
    type: "held",
    description: "Writes wait for the test (for tests).",
    options: s.object({}),
    create() {
      return {
        async write() {
          await gate;
        },
        [Symbol.asyncDispose]: () => Promise.resolve(),
      };
    },
  });
  return { definition, release };
}

async function pipelineOf(
  config: Record<string, unknown>,
  plugins: PluginDefinition[] = [],
): Promise<Pipeline> {
  const loaded = await loadConfig(config, {
    plugins: [ingestSource, failingSink, ...plugins] as PluginDefinition[],
  });
  return await Pipeline.create(loaded.config, { formatters: loaded.formatters });
}

function assertSecurityHeaders(res: Response): void {
  for (const [name, value] of SECURITY_HEADERS) {
    assert.equal(res.headers.get(name), value, `header ${name}`);
  }
}

Deno.test("GET /health answers 200 {status: ok} with the security headers", async () => {
  await using pipeline = await pipelineOf({ sinks: { mem: { type: "memory", name: "app-h" } } });
  const res = await createApp(pipeline).request("/health");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ok" });
  assertSecurityHeaders(res);
});

Deno.test("GET /ready answers 200 while every sink delivers", async () => {
  await using pipeline = await pipelineOf({ sinks: { mem: { type: "memory", name: "app-r" } } });
  const res = await createApp(pipeline).request("/ready");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ready" });
});

Deno.test("GET /ready answers 503 naming a sink whose writes throw while healthy sinks keep delivering", async () => {
  const pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "test_ingest" } },
    sinks: {
      broken: { type: "failing", message: "disk on fire" },
      mem: { type: "memory", name: "app-ready-503" },
    },
  });
  try {
    const app = createApp(pipeline);
    const post = await app.request("/ingest", { method: "POST", body: "one\ntwo\n" });
    assert.equal(post.status, 202);
    assert.equal(await pipeline.flush(300), false, "the failing sink cannot be flushed");
    const res = await app.request("/ready");
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, "unavailable");
    assert.equal(body.components.length, 1);
    assert.equal(body.components[0].id, "broken");
    assert.equal(body.components[0].kind, "sink");
    assert.match(body.components[0].problem, /disk on fire/);
    assert.deepEqual(memoryRecords("app-ready-503").map((r) => r.message), ["one", "two"]);
    assertSecurityHeaders(res);
  } finally {
    await pipeline.shutdown(200);
  }
});

Deno.test("GET /ready answers 503 naming a saturated queue while its source waits", async () => {
  const held = heldSink();
  const pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "test_ingest" } },
    sinks: { slow: { type: "held", buffer: { max_records: 2 } } },
  }, [held.definition as PluginDefinition]);
  try {
    const app = createApp(pipeline);
    // The first batch is taken by the (held) write; the second fills the queue.
    const slow = pipeline.sinks.get("slow")!;
    const waitFor = async (done: () => boolean) => {
      for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    assert.equal((await app.request("/ingest", { method: "POST", body: "a\n" })).status, 202);
    await waitFor(() => slow.depth === 0);
    const pending = app.request("/ingest", { method: "POST", body: "b\nc\nd\n" });
    await waitFor(() => slow.depth === 3);
    assert.equal(slow.depth, 3, "the second batch waits in the queue");
    const res = await app.request("/ready");
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.components[0].id, "slow");
    assert.match(body.components[0].problem, /queue full/);
    held.release();
    assert.equal((await pending).status, 202, "the waiting ingest request completes");
    assert.equal(await pipeline.flush(2000), true);
    assert.equal((await app.request("/ready")).status, 200);
  } finally {
    held.release();
    await pipeline.shutdown(500);
  }
});

Deno.test("GET /metrics renders Prometheus text 0.0.4 and counts requests by route and status", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "test_ingest" } },
    sinks: { mem: { type: "memory", name: "app-metrics" } },
  });
  const app = createApp(pipeline);
  await app.request("/health");
  await app.request("/nowhere/1");
  await app.request("/nowhere/2");
  assert.equal((await app.request("/ingest", { method: "POST", body: "x\ny\n" })).status, 202);
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assertSecurityHeaders(res);
  const text = await res.text();
  assert.match(text, /^# HELP sluice_http_server_requests_total /m);
  assert.match(text, /^# TYPE sluice_http_server_requests_total counter$/m);
  assert.match(text, /^sluice_http_server_requests_total\{route="\/health",status="200"\} 1$/m);
  assert.match(text, /^sluice_http_server_requests_total\{route="other",status="404"\} 2$/m);
  assert.match(text, /^sluice_http_server_requests_total\{route="\/ingest",status="202"\} 1$/m);
  assert.match(text, /^sluice_records_in_total\{component="ingest",kind="source"\} 2$/m);
  assert.match(text, /^sluice_uptime_seconds /m);
});

Deno.test("unknown paths answer a JSON 404 with the security headers", async () => {
  await using pipeline = await pipelineOf({ sinks: { mem: { type: "memory", name: "app-404" } } });
  const res = await createApp(pipeline).request("/admin");
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: "Not found" });
  assertSecurityHeaders(res);
});

Deno.test("a route that throws answers 500 with a JSON message and no stack or internal detail", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "test_ingest", fail: true } },
    sinks: { mem: { type: "memory", name: "app-500" } },
  });
  const res = await createApp(pipeline).request("/ingest", { method: "POST", body: "x" });
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), { error: "Internal server error" });
  assert.doesNotMatch(text, /secret|at |\.ts/);
  assertSecurityHeaders(res);
  assert.equal(
    pipeline.metrics.sum("http_server_requests_total", { route: "/ingest", status: "500" }),
    1,
  );
});

Deno.test("with server.token, ingest and metrics need the bearer token; health and ready stay open", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0", token: "t0ken-abc-0123456" },
    sources: { ingest: { type: "test_ingest" } },
    sinks: { mem: { type: "memory", name: "app-token" } },
  });
  const app = createApp(pipeline);
  assert.equal((await app.request("/health")).status, 200);
  assert.equal((await app.request("/ready")).status, 200);
  const denied = await app.request("/metrics");
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="sluice"');
  assertSecurityHeaders(denied);
  assert.equal(
    (await app.request("/metrics", { headers: { authorization: "Bearer t0ken-abc-0123457" } }))
      .status,
    401,
  );
  assert.equal(
    (await app.request("/metrics", { headers: { authorization: "Basic t0ken-abc-0123456" } }))
      .status,
    401,
  );
  assert.equal(
    (await app.request("/metrics", { headers: { authorization: "bearer t0ken-abc-0123456" } }))
      .status,
    200,
  );
  assert.equal((await app.request("/ingest", { method: "POST", body: "x\n" })).status, 401);
  assert.equal(memoryRecords("app-token").length, 0);
  const ok = await app.request("/ingest", {
    method: "POST",
    body: "x\n",
    headers: { authorization: "Bearer t0ken-abc-0123456" },
  });
  assert.equal(ok.status, 202);
  assert.equal(pipeline.metrics.sum("http_rejections_total", { reason: "unauthorized" }), 4);
});

Deno.test("the ingest rate limit is a token bucket per client address (controlled clock)", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0", rate_limit: { requests_per_second: 2, burst: 3 } },
    sources: { ingest: { type: "test_ingest" } },
    sinks: { mem: { type: "memory", name: "app-rate" } },
  });
  let now = 1_000_000;
  const app = createApp(pipeline, { now: () => now });
  const post = (client: string) =>
    app.request("/ingest", { method: "POST", body: "r\n" }, {
      remoteAddr: { hostname: client },
    });
  for (let i = 0; i < 3; i++) assert.equal((await post("10.0.0.1")).status, 202);
  const limited = await post("10.0.0.1");
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  assertSecurityHeaders(limited);
  assert.equal((await post("10.0.0.2")).status, 202, "another client has its own bucket");
  assert.equal((await app.request("/health")).status, 200, "health is not rate limited");
  now += 500; // one token at 2 per second
  assert.equal((await post("10.0.0.1")).status, 202);
  assert.equal((await post("10.0.0.1")).status, 429);
  assert.equal(pipeline.metrics.sum("http_rejections_total", { reason: "rate_limited" }), 2);
  assert.equal(memoryRecords("app-rate").length + pipeline.sinks.get("mem")!.depth, 5);
});

Deno.test("ingest bodies over max_body_bytes get 413, by Content-Length or while streaming", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0", max_body_bytes: "1KiB" },
    sources: { ingest: { type: "test_ingest" } },
    sinks: { mem: { type: "memory", name: "app-body" } },
  });
  const app = createApp(pipeline);
  const declared = await app.request("/ingest", { method: "POST", body: "x".repeat(1025) });
  assert.equal(declared.status, 413);
  assertSecurityHeaders(declared);
  const line = new TextEncoder().encode("y".repeat(99) + "\n");
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < 100) controller.enqueue(line);
      else controller.close();
    },
  });
  const streamed = await app.request(
    new Request("http://localhost/ingest", { method: "POST", body: stream }),
  );
  assert.equal(streamed.status, 413);
  assert.ok(sent < 100, `reading stopped early (pulled ${sent} chunks)`);
  const exact = await app.request("/ingest", { method: "POST", body: "z".repeat(1023) + "\n" });
  assert.equal(exact.status, 202, "a body of exactly the limit is accepted");
  assert.equal(pipeline.metrics.sum("http_rejections_total", { reason: "body_too_large" }), 2);
});

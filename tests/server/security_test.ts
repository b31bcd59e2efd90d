import assert from "node:assert/strict";
import { loadConfig, memoryRecords, Pipeline, type PluginDefinition } from "../../mod.ts";
import { createApp, SECURITY_HEADERS } from "../../src/server/app.ts";
import { serve } from "../../src/server/serve.ts";
import ingestSource from "../helpers/ingest_source.ts";

interface Running {
  pipeline: Pipeline;
  url: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A pipeline served on a free loopback port; disposing stops the server and the pipeline. */
async function running(
  server: Record<string, unknown>,
  store: string,
  now?: () => number,
): Promise<Running> {
  const loaded = await loadConfig({
    server: { listen: "127.0.0.1:0", ...server },
    sources: { ingest: { type: "test_ingest" } },
    sinks: { mem: { type: "memory", name: store } },
  }, { plugins: [ingestSource as PluginDefinition] });
  const pipeline = await Pipeline.create(loaded.config, { formatters: loaded.formatters });
  const stop = new AbortController();
  const http = serve(createApp(pipeline, now ? { now } : {}), {
    hostname: "127.0.0.1",
    port: 0,
    signal: stop.signal,
    log: pipeline.log,
    authenticated: loaded.config.server?.token !== undefined,
  });
  return {
    pipeline,
    url: `http://127.0.0.1:${http.addr.port}`,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await http.finished;
      await pipeline.shutdown(1000);
    },
  };
}

async function status(response: Promise<Response>): Promise<number> {
  const res = await response;
  await res.body?.cancel();
  return res.status;
}

Deno.test("over real HTTP, server.token guards ingest and /metrics; /health and /ready stay open", async () => {
  await using srv = await running({ token: "s3cret-token-0123" }, "sec-token");
  const auth = { authorization: "Bearer s3cret-token-0123" };
  assert.equal(await status(fetch(`${srv.url}/health`)), 200);
  assert.equal(await status(fetch(`${srv.url}/ready`)), 200);
  assert.equal(await status(fetch(`${srv.url}/metrics`)), 401);
  assert.equal(
    await status(
      fetch(`${srv.url}/metrics`, { headers: { authorization: "Bearer s3cret-token-012X" } }),
    ),
    401,
  );
  assert.equal(
    await status(fetch(`${srv.url}/ingest`, { method: "POST", body: "no token\n" })),
    401,
  );
  assert.equal(
    await status(fetch(`${srv.url}/ingest`, {
      method: "POST",
      body: "wrong\n",
      headers: { authorization: "Bearer nope" },
    })),
    401,
  );
  assert.equal(memoryRecords("sec-token").length, 0, "nothing unauthenticated got in");
  assert.equal(
    await status(fetch(`${srv.url}/ingest`, { method: "POST", body: "hello\n", headers: auth })),
    202,
  );
  const metrics = await fetch(`${srv.url}/metrics`, { headers: auth });
  assert.equal(metrics.status, 200);
  const text = await metrics.text();
  assert.match(text, /^sluice_http_rejections_total\{reason="unauthorized"\} 4$/m);
  assert.match(text, /^sluice_http_server_requests_total\{route="\/ingest",status="401"\} 2$/m);
  await srv.pipeline.flush(1000);
  assert.deepEqual(memoryRecords("sec-token").map((r) => r.message), ["hello"]);
});

Deno.test("over real HTTP, a streamed (chunked) body above max_body_bytes gets 413 and the server keeps serving", async () => {
  await using srv = await running({ max_body_bytes: "4KiB" }, "sec-body");
  const line = new TextEncoder().encode("z".repeat(255) + "\n");
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled++ < 64) controller.enqueue(line);
      else controller.close();
    },
  });
  const res = await fetch(`${srv.url}/ingest`, { method: "POST", body });
  assert.equal(res.status, 413);
  for (const [name, value] of SECURITY_HEADERS) assert.equal(res.headers.get(name), value);
  assert.deepEqual(await res.json(), { error: "Request body exceeds the limit of 4096 bytes" });
  assert.equal(srv.pipeline.metrics.sum("http_rejections_total", { reason: "body_too_large" }), 1);
  // The server is fine afterwards and accepts a body under the limit.
  assert.equal(
    await status(fetch(`${srv.url}/ingest`, { method: "POST", body: "small\n" })),
    202,
  );
  await srv.pipeline.flush(1000);
  assert.deepEqual(memoryRecords("sec-body").map((r) => r.message), ["small"]);
});

Deno.test("over a raw socket, a chunked body with no Content-Length is cut off at the limit with 413", async () => {
  await using srv = await running({ max_body_bytes: "2KiB" }, "sec-raw");
  const port = Number(new URL(srv.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const encoder = new TextEncoder();
    await conn.write(encoder.encode(
      "POST /ingest HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
    ));
    const chunk = "q".repeat(511) + "\n";
    // 8 chunks of 512 bytes: twice the limit. The server may answer (and stop reading) early.
    for (let i = 0; i < 8; i++) {
      try {
        await conn.write(encoder.encode(`200\r\n${chunk}\r\n`));
      } catch {
        break; // the server closed the connection after answering
      }
    }
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    const head = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    assert.match(head, /^HTTP\/1\.1 413 /);
  } finally {
    conn.close();
  }
  assert.equal(memoryRecords("sec-raw").length, 0);
});

Deno.test("over real HTTP, a Content-Length above max_body_bytes gets 413 before the body is read", async () => {
  await using srv = await running({ max_body_bytes: "1KiB" }, "sec-cl");
  assert.equal(
    await status(fetch(`${srv.url}/ingest`, { method: "POST", body: "x".repeat(2048) })),
    413,
  );
  assert.equal(memoryRecords("sec-cl").length, 0);
});

Deno.test("over real HTTP, a client beyond its burst gets 429 with Retry-After, counted", async () => {
  let now = 5_000_000;
  await using srv = await running(
    { rate_limit: { requests_per_second: 0.5, burst: 3 } },
    "sec-rate",
    () => now,
  );
  const post = () => fetch(`${srv.url}/ingest`, { method: "POST", body: "r\n" });
  for (let i = 0; i < 3; i++) assert.equal(await status(post()), 202);
  const limited = await post();
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "2");
  assert.deepEqual(await limited.json(), { error: "Too many requests; retry later" });
  assert.equal(await status(fetch(`${srv.url}/health`)), 200, "probes are not limited");
  now += 2_000;
  assert.equal(await status(post()), 202, "a token came back after Retry-After");
  assert.equal(await status(post()), 429);
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(text, /^sluice_http_rejections_total\{reason="rate_limited"\} 2$/m);
  assert.match(text, /^sluice_http_server_requests_total\{route="\/ingest",status="429"\} 2$/m);
});

Deno.test("serve() warns about a non-loopback bind without a token, and not otherwise", async () => {
  const warnings: string[] = [];
  const log = { warnOnce: (_key: string, message: string) => warnings.push(message), info() {} };
  const loaded = await loadConfig({ sinks: { mem: { type: "memory", name: "sec-warn" } } });
  await using pipeline = await Pipeline.create(loaded.config, { formatters: loaded.formatters });
  const app = createApp(pipeline);
  for (
    const [hostname, authenticated, expected] of [
      ["127.0.0.1", false, 0],
      ["0.0.0.0", true, 0],
      ["0.0.0.0", false, 1],
    ] as const
  ) {
    warnings.length = 0;
    const stop = new AbortController();
    const http = serve(app, { hostname, port: 0, signal: stop.signal, log, authenticated });
    stop.abort();
    await http.finished;
    assert.equal(warnings.length, expected, `${hostname} authenticated=${authenticated}`);
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /binds 0\.0\.0\.0.*without a token.*server\.token/);
});

import assert from "node:assert/strict";
import { ConfigError, loadConfig, Pipeline } from "../../../../mod.ts";
import { createApp } from "../../../../src/server/app.ts";

const TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACE_B = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "00f067aa0ba902b7";

async function pipelineOf(config: Record<string, unknown>): Promise<Pipeline> {
  const loaded = await loadConfig(config);
  return await Pipeline.create(loaded.config, { formatters: loaded.formatters });
}

function ndjson(records: Record<string, unknown>[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + "\n";
}

const BODY = ndjson([
  { level: "info", message: "ok", service: "service1", trace_id: TRACE_A, span_id: SPAN },
  { level: "warning", message: "slow", service: "service1", trace_id: TRACE_A, span_id: SPAN },
  {
    level: "error",
    message: "Database connection timeout",
    service: "service1",
    trace_id: TRACE_B,
    span_id: SPAN,
  },
  { level: "error", message: "Authentication failed", service: "service2" },
  { level: "info", message: "ok", service: "service3" },
]);

Deno.test("GET /stats answers slide 14's keys per stats sink; /stats/<id> one; /metrics has sluice_log_records_total", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "http" } },
    sinks: {
      analysis: { type: "stats", inputs: ["ingest"], window: "5m", max_services: 1000 },
      errors_only: { type: "stats", level: "error", service_field: "service" },
      mem: { type: "memory", name: "stats-sink-mem" },
    },
  });
  const app = createApp(pipeline);
  const post = await app.request("/ingest", {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: BODY,
  });
  assert.equal(post.status, 200, await post.clone().text());
  assert.ok(await pipeline.flush(2000));

  const res = await app.request("/stats");
  assert.equal(res.status, 200);
  const all = await res.json();
  assert.deepEqual(Object.keys(all).sort(), ["analysis", "errors_only"]);
  const analysis = all.analysis;
  assert.equal(analysis.total_services, 3);
  assert.equal(analysis.active_traces, 2);
  assert.deepEqual(analysis.service_distribution, {
    service1: { INFO: 1, WARN: 1, ERROR: 1 },
    service2: { ERROR: 1 },
    service3: { INFO: 1 },
  });
  // Newest first: equal times keep the later arrival first.
  assert.deepEqual(
    analysis.recent_errors.map((e: Record<string, unknown>) => [e.service, e.message, e.trace_id]),
    [
      ["service2", "Authentication failed", undefined],
      ["service1", "Database connection timeout", TRACE_B],
    ],
  );
  assert.equal(analysis.recent_errors.length, 2);
  assert.deepEqual(Object.keys(analysis.rates).sort(), ["service1", "service2", "service3"]);
  assert.equal(analysis.top_errors.length, 2);
  assert.equal(analysis.window_seconds, 300);
  // The sink's level gate applies before the analysis: only errors reached errors_only.
  assert.deepEqual(all.errors_only.service_distribution, {
    service1: { ERROR: 1 },
    service2: { ERROR: 1 },
  });

  const one = await app.request("/stats/analysis");
  assert.equal(one.status, 200);
  assert.equal((await one.json()).total_services, 3);
  const missing = await app.request("/stats/nope");
  assert.equal(missing.status, 404);
  assert.match(
    (await missing.json()).error,
    /No stats sink "nope" \(stats sinks: "analysis", "errors_only"\)/,
  );

  const metrics = await (await app.request("/metrics")).text();
  assert.match(
    metrics,
    /^sluice_log_records_total\{component="analysis",service="service1",level="ERROR"\} 1$/m,
  );
  assert.match(
    metrics,
    /^sluice_log_records_total\{component="analysis",service="service3",level="INFO"\} 1$/m,
  );
  assert.match(
    metrics,
    /^sluice_http_server_requests_total\{route="\/stats\/<id>",status="404"\} 1$/m,
  );
});

Deno.test("/stats needs the bearer token when server.token is set, like /metrics", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0", token: "t0ken-abc-0123456" },
    sinks: { analysis: { type: "stats" } },
  });
  const app = createApp(pipeline);
  for (const path of ["/stats", "/stats/analysis", "/metrics"]) {
    const denied = await app.request(path);
    assert.equal(denied.status, 401, path);
    assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="sluice"');
    const wrong = await app.request(path, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401, path);
    const ok = await app.request(path, { headers: { authorization: "Bearer t0ken-abc-0123456" } });
    assert.equal(ok.status, 200, path);
  }
});

Deno.test("GET /stats answers {} without stats sinks", async () => {
  await using pipeline = await pipelineOf({
    sinks: { mem: { type: "memory", name: "stats-none" } },
  });
  const res = await createApp(pipeline).request("/stats");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
});

Deno.test("the stats sink's options are checked with their paths and a did-you-mean", async () => {
  const error = await loadConfig({
    sinks: {
      analysis: { type: "stats", window: "0s", max_service: 10, top_errors: 0 },
    },
  }).then(() => undefined, (e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  const text = error.message;
  assert.match(text, /sinks\.analysis\.window/);
  assert.match(text, /at least 1s/);
  assert.match(text, /sinks\.analysis\.max_service/);
  assert.match(text, /did you mean "max_services"/);
  assert.match(text, /sinks\.analysis\.top_errors/);
});

Deno.test("services past max_services are counted as _other in /stats and /metrics, and said once on stderr", async () => {
  await using pipeline = await pipelineOf({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "http" } },
    sinks: { analysis: { type: "stats", max_services: 2 } },
  });
  const app = createApp(pipeline);
  const body = ndjson(
    ["a", "b", "c", "d", "e"].map((service) => ({ level: "info", message: "m", service })),
  );
  const post = await app.request("/ingest", { method: "POST", body });
  assert.equal(post.status, 200, await post.clone().text());
  assert.ok(await pipeline.flush(2000));
  const stats = await (await app.request("/stats/analysis")).json();
  assert.deepEqual(stats.service_distribution, {
    a: { INFO: 1 },
    b: { INFO: 1 },
    _other: { INFO: 3 },
  });
  const metrics = await (await app.request("/metrics")).text();
  assert.match(
    metrics,
    /sluice_log_records_total\{component="analysis",service="_other",level="INFO"\} 3/,
  );
  assert.match(metrics, /^sluice_internal_warnings_total\{key="stats:analysis:overflow"\} 1$/m);
});

import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  configure,
  currentPipeline,
  flush,
  getLogger,
  memoryRecords,
  shutdown,
} from "../../mod.ts";
import type { LogRecord } from "../../mod.ts";
import { requestLogger } from "../../src/hono/mod.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE}-${CALLER_SPAN}-01`;

async function withMemory(name: string, fn: (records: LogRecord[]) => Promise<void>) {
  await configure({
    loggers: { "": "debug" },
    sources: { app: { type: "logger" } },
    sinks: { mem: { type: "memory", name } },
  });
  try {
    await fn(memoryRecords(name));
  } finally {
    await shutdown();
  }
}

/** Records reach the memory sink asynchronously: flush before reading them. */
async function delivered(records: LogRecord[]): Promise<LogRecord[]> {
  assert.ok(await flush(2000));
  return records;
}

function accessOf(records: LogRecord[]): LogRecord[] {
  return records.filter((r) => r.logger === "http");
}

function appWithRoutes(): Hono {
  const app = new Hono();
  app.use(requestLogger({ skip: ["/health"] }));
  app.get("/health", (c) => c.text("ok"));
  app.get("/pay", async (c) => {
    getLogger("payment").info("Starting payment processing", { user_id: "user123" });
    await new Promise((resolve) => setTimeout(resolve, 5));
    getLogger("payment").info("Payment processed successfully");
    return c.json({ ok: true });
  });
  app.get("/boom", () => {
    throw new Error("card service down");
  });
  app.onError((_error, c) => c.json({ error: "Internal error" }, 500));
  return app;
}

Deno.test("an incoming traceparent: everything logged while handling carries the trace, the request's span and a request id", async () => {
  await withMemory("hono-trace", async (records) => {
    const res = await appWithRoutes().request("/pay?card=4111", {
      headers: { traceparent: TRACEPARENT },
    });
    assert.equal(res.status, 200);
    const body = await res.text();
    const answered = res.headers.get("traceparent")!;
    const [, traceId, spanId, flags] = answered.split("-");
    assert.equal(traceId, TRACE);
    assert.equal(flags, "01");
    assert.match(spanId!, /^[0-9a-f]{16}$/);
    assert.notEqual(spanId, CALLER_SPAN);
    const requestId = res.headers.get("x-request-id")!;
    assert.match(requestId, /^[0-9a-f-]{36}$/);

    const app = (await delivered(records)).filter((r) => r.logger === "payment");
    assert.equal(app.length, 2, "both records, the one after an await too");
    for (const r of app) {
      assert.equal(r.trace_id, TRACE);
      assert.equal(r.span_id, spanId);
      assert.equal(r.parent_span_id, CALLER_SPAN);
      assert.equal(r.fields.request_id, requestId);
    }
    const [access] = accessOf(records);
    assert.ok(access);
    assert.equal(access.level, 20);
    assert.match(access.message, /^GET \/pay 200 \d+(\.\d+)?ms$/);
    assert.equal(access.fields.method, "GET");
    assert.equal(access.fields.path, "/pay", "the query string is not logged");
    assert.equal(access.fields.status, 200);
    assert.equal(access.fields.bytes, new TextEncoder().encode(body).length);
    assert.ok(typeof access.fields.duration_ms === "number" && access.fields.duration_ms >= 5);
    assert.equal(access.trace_id, TRACE);
    assert.equal(access.span_id, spanId);
    assert.equal(access.fields.request_id, requestId);
  });
});

Deno.test("no traceparent starts a new trace; a malformed one too, counted and marked on the access record", async () => {
  await withMemory("hono-new-trace", async (records) => {
    const app = appWithRoutes();
    const fresh = await app.request("/pay");
    await fresh.text();
    const [, freshTrace] = fresh.headers.get("traceparent")!.split("-");
    assert.match(freshTrace!, /^[0-9a-f]{32}$/);
    const first = (await delivered(records)).filter((r) => r.logger === "payment");
    assert.equal(first[0]?.trace_id, freshTrace);
    assert.equal(first[0]?.parent_span_id, undefined);

    for (
      const bad of [
        "00-" + TRACE.toUpperCase() + "-" + CALLER_SPAN + "-01",
        "garbage",
        `00-${"0".repeat(32)}-${CALLER_SPAN}-01`,
      ]
    ) {
      const res = await app.request("/pay", { headers: { traceparent: bad } });
      await res.text();
      const [, trace] = res.headers.get("traceparent")!.split("-");
      assert.notEqual(trace, TRACE.toLowerCase());
      assert.notEqual(trace, "0".repeat(32));
    }
    const access = accessOf(await delivered(records));
    assert.equal(access.length, 4);
    assert.equal(access[0]?.fields.traceparent_invalid, undefined);
    assert.deepEqual(access.slice(1).map((r) => r.fields.traceparent_invalid), [true, true, true]);
    const metrics = currentPipeline()!.metrics.render();
    assert.match(metrics, /^sluice_http_traceparent_invalid_total\{logger="http"\} 3$/m);
    // Each request its own trace.
    assert.equal(new Set(access.map((r) => r.trace_id)).size, 4);
  });
});

Deno.test("access records: ERROR with the error for 5xx, WARN for 4xx; skipped paths get nothing", async () => {
  await withMemory("hono-levels", async (records) => {
    const app = appWithRoutes();
    const boom = await app.request("/boom");
    assert.equal(boom.status, 500);
    await boom.text();
    const missing = await app.request("/nowhere");
    assert.equal(missing.status, 404);
    await missing.text();
    const health = await app.request("/health");
    assert.equal(await health.text(), "ok");
    assert.equal(health.headers.get("traceparent"), null);
    assert.equal(health.headers.get("x-request-id"), null);

    const access = accessOf(await delivered(records));
    assert.deepEqual(access.map((r) => [r.level, r.fields.status, r.fields.path]), [
      [40, 500, "/boom"],
      [30, 404, "/nowhere"],
    ]);
    assert.equal(access[0]?.error?.message, "card service down");
  });
});

Deno.test("a safe incoming request id is kept, anything else replaced; header names and logger are options", async () => {
  await withMemory("hono-options", async (records) => {
    const app = new Hono();
    app.use(requestLogger({
      logger: "edge.access",
      traceparentHeader: "x-trace",
      requestIdHeader: "x-correlation-id",
      requestIdField: "correlation_id",
      skip: (c) => c.req.method === "OPTIONS",
    }));
    app.get("/", (c) => {
      getLogger("edge").info("inside");
      return c.body(null, 204);
    });
    app.options("/", (c) => c.body(null, 204));
    const kept = await app.request("/", {
      headers: { "x-trace": TRACEPARENT, "x-correlation-id": "req-42.a:b" },
    });
    assert.equal(kept.headers.get("x-correlation-id"), "req-42.a:b");
    assert.match(kept.headers.get("x-trace")!, new RegExp(`^00-${TRACE}-`));
    const replaced = await app.request("/", {
      headers: { "x-correlation-id": "evil line <script>" },
    });
    assert.match(replaced.headers.get("x-correlation-id")!, /^[0-9a-f-]{36}$/);
    const tooLong = await app.request("/", { headers: { "x-correlation-id": "a".repeat(129) } });
    assert.match(tooLong.headers.get("x-correlation-id")!, /^[0-9a-f-]{36}$/);
    await app.request("/", { method: "OPTIONS" });

    const inside = (await delivered(records)).filter((r) => r.logger === "edge");
    assert.equal(inside[0]?.fields.correlation_id, "req-42.a:b");
    assert.equal(inside[0]?.trace_id, TRACE);
    const access = records.filter((r) => r.logger === "edge.access");
    assert.equal(access.length, 3, "OPTIONS is skipped");
    assert.equal(access[0]?.fields.bytes, 0);
    assert.equal(access[0]?.fields.status, 204);
  });
});

Deno.test("concurrent requests keep their own trace and request id across awaits", async () => {
  await withMemory("hono-concurrent", async (records) => {
    const app = new Hono();
    app.use(requestLogger());
    app.get("/work/:n", async (c) => {
      const n = Number(c.req.param("n"));
      await new Promise((resolve) => setTimeout(resolve, 20 - n));
      getLogger("work").info("done", { n });
      return c.text("ok");
    });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, n) => app.request(`/work/${n}`)),
    );
    await Promise.all(responses.map((r) => r.text()));
    await delivered(records);
    for (let n = 0; n < 10; n++) {
      const res = responses[n]!;
      const [, trace, span] = res.headers.get("traceparent")!.split("-");
      const record = records.find((r) => r.logger === "work" && r.fields.n === n)!;
      assert.equal(record.trace_id, trace);
      assert.equal(record.span_id, span);
      assert.equal(record.fields.request_id, res.headers.get("x-request-id"));
    }
  });
});

Deno.test("through a real Deno.serve: headers over the wire, a streamed body's bytes, and a client that goes away", async () => {
  await withMemory("hono-served", async (records) => {
    const app = new Hono();
    app.use(requestLogger());
    app.get("/stream", () => {
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (i++ === 3) return controller.close();
          controller.enqueue(new Uint8Array(1000).fill(97));
        },
      });
      return new Response(body, { headers: { "content-type": "text/plain" } });
    });
    let stopped!: () => void;
    const hold = new Promise<void>((resolve) => stopped = resolve);
    app.get("/forever", () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(10));
        },
        cancel() {
          stopped();
        },
      });
      return new Response(body);
    });
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const res = await fetch(`${base}/stream`, { headers: { traceparent: TRACEPARENT } });
      assert.equal((await res.arrayBuffer()).byteLength, 3000);
      assert.match(res.headers.get("traceparent")!, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
      assert.ok(res.headers.get("x-request-id"));

      const abort = new AbortController();
      const forever = await fetch(`${base}/forever`, { signal: abort.signal });
      const reader = forever.body!.getReader();
      await reader.read();
      abort.abort();
      await reader.cancel().catch(() => {});
      await hold;
      // The access record is logged when the body ends; give the cancel a moment to land.
      for (let i = 0; i < 50 && accessOf(await delivered(records)).length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const access = accessOf(records);
      assert.equal(access[0]?.fields.bytes, 3000);
      assert.equal(access[0]?.trace_id, TRACE);
      assert.equal(access[1]?.fields.path, "/forever");
      assert.equal(access[1]?.fields.aborted, true);
    } finally {
      await server.shutdown();
    }
  });
});

import assert from "node:assert/strict";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { fileURLToPath } from "node:url";
import {
  configure,
  currentTrace,
  getLogger,
  memoryRecords,
  shutdown,
  withSpan,
} from "../../mod.ts";
import { DENO_JSON } from "../helpers/sluice_process.ts";

const MOD = fileURLToPath(new URL("../../mod.ts", import.meta.url));

Deno.test("OpenTelemetry: records pick up @opentelemetry/api's active span; withSpan makes real child spans", async () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  assert.ok(context.setGlobalContextManager(manager));
  assert.ok(trace.setGlobalTracerProvider(provider));
  const name = `mem-${crypto.randomUUID()}`;
  try {
    await configure({
      sources: { app: { type: "logger" } },
      sinks: { [name]: { type: "memory", inputs: ["app"] } },
    });
    const log = getLogger("otel");
    const tracer = trace.getTracer("test");
    let outer: { traceId: string; spanId: string } | undefined;
    await tracer.startActiveSpan("request", async (span) => {
      outer = span.spanContext();
      await Promise.resolve();
      log.info("in otel span");
      await withSpan("db.query", async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        log.info("in child");
      });
      span.end();
    });
    log.info("after");
    await shutdown();
    const [inSpan, inChild, after] = memoryRecords(name);
    assert.equal(inSpan!.trace_id, outer!.traceId);
    assert.equal(inSpan!.span_id, outer!.spanId);
    assert.equal(inSpan!.trace_flags, 1);
    assert.equal(inChild!.trace_id, outer!.traceId);
    assert.equal(inChild!.parent_span_id, outer!.spanId);
    assert.notEqual(inChild!.span_id, outer!.spanId);
    assert.equal(after!.trace_id, undefined);
    // withSpan's span is a real OpenTelemetry span, ended and exported with its name.
    const exported = exporter.getFinishedSpans().find((s) => s.name === "db.query");
    assert.ok(exported, "db.query exported");
    assert.equal(exported.spanContext().spanId, inChild!.span_id);
    assert.equal(exported.parentSpanContext?.spanId, outer!.spanId);
    assert.equal(currentTrace(), undefined);
  } finally {
    await shutdown();
    trace.disable();
    context.disable();
  }
});

Deno.test("OpenTelemetry: the library's module graph loads nothing of it", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `--config=${DENO_JSON}`, MOD],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; npmPackage?: string }[];
  };
  const names = graph.modules.map((m) => m.npmPackage ?? m.specifier);
  assert.ok(names.length > 10);
  assert.deepEqual(names.filter((n) => n.includes("opentelemetry")), []);
});

Deno.test("OpenTelemetry: Deno's built-in OpenTelemetry (OTEL_DENO=true) gives Deno.serve's request span to records", async () => {
  const script = `
    import { configure, getLogger, memoryRecords, shutdown, withSpan } from ${JSON.stringify(MOD)};
    await configure({ sources: { app: { type: "logger" } }, sinks: { mem: { type: "memory", inputs: ["app"] } } });
    const log = getLogger("svc");
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
      log.info("handling");
      await withSpan("inner", () => log.info("inner"));
      return new Response("ok");
    });
    await (await fetch("http://127.0.0.1:" + server.addr.port + "/")).text();
    await server.shutdown();
    await shutdown();
    console.log(JSON.stringify(memoryRecords("mem")));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--config=${DENO_JSON}`, script],
    env: {
      OTEL_DENO: "true",
      // Nothing listens there: the exporter's failures stay on this machine.
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const [handling, inner] = JSON.parse(text.trim().split("\n").at(-1)!);
  assert.match(handling.trace_id, /^[0-9a-f]{32}$/);
  assert.match(handling.span_id, /^[0-9a-f]{16}$/);
  assert.equal(inner.trace_id, handling.trace_id);
  assert.equal(inner.parent_span_id, handling.span_id);
});

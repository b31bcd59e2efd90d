import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/load.ts";
import { createRecord, type LogRecord } from "../../../src/core/record.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import type { PluginContext } from "../../../src/plugin/types.ts";
import fieldsProcessor from "../../../plugins/processors/fields.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";

/** This processor returns one record or null, never several. */
type OneRecord = (record: LogRecord) => LogRecord | null;

function make(raw: Record<string, unknown>): OneRecord {
  const ctx = { issues: [] };
  const options = fieldsProcessor.options.parse(raw, [], ctx);
  assert.deepEqual(ctx.issues, []);
  return fieldsProcessor.create(options!, {} as PluginContext) as OneRecord;
}

Deno.test("fields renames, then drops, then adds, and returns a new record without touching the input", () => {
  const tidy = make({
    rename: { usr: "user", lvl: "severity_text" },
    drop: ["password", "python"],
    add: { service: "payments", env: "prod" },
  });
  const input = createRecord({
    time: 5,
    level: 40,
    logger: "api",
    message: "login",
    fields: { usr: "ada", password: "hunter2", python: { lineno: 3 }, env: "dev", keep: 1 },
    error: { name: "E", message: "m" },
  });
  const frozen = structuredClone(input);
  const out = tidy(input)!;
  assert.notEqual(out, input);
  assert.notEqual(out.fields, input.fields);
  assert.deepEqual(input, frozen, "the input record is unchanged");
  assert.deepEqual(out, {
    time: 5,
    level: 40,
    logger: "api",
    message: "login",
    fields: { keep: 1, user: "ada", service: "payments", env: "prod" },
    error: { name: "E", message: "m" },
  });
  assert.equal(out.error, input.error, "the error is shared, not copied");
});

Deno.test("fields: a renamed value replaces an existing field, renames can swap, and drop names the new key", () => {
  const swap = make({ rename: { a: "b", b: "a" } });
  assert.deepEqual(swap(createRecord({ message: "", fields: { a: 1, b: 2 } }))!.fields, {
    b: 1,
    a: 2,
  });
  const replace = make({ rename: { usr: "user" } });
  for (const fields of [{ user: "old", usr: "new" }, { usr: "new", user: "old" }]) {
    assert.deepEqual(replace(createRecord({ message: "", fields }))!.fields, { user: "new" });
  }
  assert.deepEqual(replace(createRecord({ message: "", fields: { user: "kept" } }))!.fields, {
    user: "kept",
  });
  const renameThenDrop = make({ rename: { secret: "token" }, drop: ["token"] });
  assert.deepEqual(
    renameThenDrop(createRecord({ message: "", fields: { secret: "s", token: "t", x: 1 } }))!
      .fields,
    { x: 1 },
  );
});

Deno.test("fields shares frozen static values between records", () => {
  const add = make({ add: { labels: { team: "core" } } });
  const a = add(createRecord({ message: "a" }))!;
  const b = add(createRecord({ message: "b" }))!;
  assert.equal(a.fields.labels, b.fields.labels);
  assert.ok(Object.isFrozen(a.fields.labels));
});

Deno.test("fields in a pipeline: the processed sink sees the new fields, a parallel sink the original record", async () => {
  const { config, formatters } = await loadConfig({
    server: { listen: "127.0.0.1:0" },
    sources: { ingest: { type: "http" } },
    processors: {
      tidy: { type: "fields", inputs: ["ingest"], drop: "password", add: { dc: "eu-1" } },
    },
    sinks: {
      raw: { type: "memory", name: "fields-raw", inputs: ["ingest"] },
      clean: { type: "memory", name: "fields-clean", inputs: ["tidy"] },
    },
  });
  const pipeline = await Pipeline.create(config, { formatters });
  try {
    await pipeline.start();
    const res = await pipeline.routes[0]!.handle(
      new Request("http://x/ingest", {
        method: "POST",
        body: '{"msg":"login","user":"ada","password":"hunter2"}',
        headers: { "content-type": "application/x-ndjson" },
      }),
    );
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.ok(await pipeline.flush());
    assert.deepEqual(memoryRecords("fields-clean")[0]!.fields, { user: "ada", dc: "eu-1" });
    assert.deepEqual(memoryRecords("fields-raw")[0]!.fields, { user: "ada", password: "hunter2" });
  } finally {
    await pipeline.shutdown();
  }
});

Deno.test("fields add_missing sets a default only where the record has no such field", () => {
  const defaults = make({ add_missing: { request_id: "NO_REQUEST" }, add: { service: "shop" } });
  const caller = { file: "/a.ts", line: 3, column: 1, function: "f", module: "a" };
  const inside = defaults(
    createRecord({ message: "in a request", fields: { request_id: "REQ123" }, caller }),
  )!;
  const outside = defaults(createRecord({ message: "outside" }))!;
  assert.deepEqual(inside.fields, { request_id: "REQ123", service: "shop" });
  assert.deepEqual(outside.fields, { service: "shop", request_id: "NO_REQUEST" });
  assert.deepEqual(inside.caller, caller, "the call site travels with the new record");
});

Deno.test("fields keeps the record's trace context (it was dropped: the trace ids vanished from every sink behind a fields processor)", () => {
  const tidy = make({ add: { env: "prod" } });
  const record = createRecord({ message: "traced" });
  record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  record.span_id = "00f067aa0ba902b7";
  record.parent_span_id = "1111111111111111";
  record.trace_flags = 1;
  const out = tidy(record) as typeof record;
  assert.equal(out.trace_id, record.trace_id);
  assert.equal(out.span_id, record.span_id);
  assert.equal(out.parent_span_id, record.parent_span_id);
  assert.equal(out.trace_flags, 1);
});

Deno.test("fields rename of the record's own time is a check error that points to the formatter's keys (it was ignored)", async () => {
  const { parseConfigText } = await import("../../../src/config/load.ts");
  const yaml = [
    "sources:",
    "  app: { type: logger }",
    "processors:",
    "  tidy: { type: fields, inputs: [app], rename: { time: timestamp, uid: user }, drop: [level] }",
    "sinks:",
    "  out: { type: console, inputs: [tidy] }",
    "",
  ].join("\n");
  const error = await parseConfigText(yaml, "rename.yaml").then(
    () => assert.fail("the config loaded"),
    (e: Error) => e,
  );
  assert.match(
    error.message,
    /rename\.yaml:4:\d+: processors\.tidy\.rename\.time: "time" is the record's own key, not a field; fields cannot rename it/,
  );
  assert.match(error.message, /format: \{ type: json, keys: \{ time: timestamp \} \}/);
  assert.match(error.message, /processors\.tidy\.drop\[0\]: "level" is the record's own key/);
  assert.doesNotMatch(error.message, /uid/);
});

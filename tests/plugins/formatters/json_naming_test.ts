import assert from "node:assert/strict";
import { createRecord, type LogRecord } from "../../../src/core/record.ts";
import type { Formatter, PluginContext } from "../../../src/plugin/types.ts";
import { parseConfigText } from "../../../src/config/load.ts";
import json from "../../../plugins/formatters/json/mod.ts";

function make(raw: Record<string, unknown>): Formatter {
  const ctx = { issues: [] };
  const options = json.options.parse(raw, [], ctx);
  assert.deepEqual(ctx.issues, []);
  return json.create(options!, {} as PluginContext) as Formatter;
}

function issues(raw: Record<string, unknown>): string[] {
  const ctx = { issues: [] as { path: (string | number)[]; message: string; hint?: string }[] };
  json.options.parse(raw, ["sinks", "out", "format"], ctx);
  return ctx.issues.map((i) => `${i.path.join(".")}: ${i.message}${i.hint ? ` (${i.hint})` : ""}`);
}

function traced(init: Partial<LogRecord>): LogRecord {
  const record = createRecord({ time: 1_700_000_000_123, message: "m", ...init });
  record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  record.span_id = "00f067aa0ba902b7";
  record.trace_flags = 1;
  return record;
}

Deno.test("json keys rename the record's own keys, in their usual order", () => {
  const format = make({ keys: { time: "timestamp", message: "msg", level: "severity" } });
  const line = format(traced({ level: 30, logger: "db", fields: { user: "ada" } })) as string;
  assert.equal(
    line,
    '{"timestamp":"2023-11-14T22:13:20.123Z","severity":"WARN","logger":"db","msg":"m",' +
      '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","user":"ada"}',
  );
});

Deno.test("json keys: a field named like a renamed key is written as fields.<key>; the old name is free", () => {
  const format = make({ keys: { time: "timestamp", error: "err" } });
  const record = createRecord({
    time: 0,
    message: "m",
    fields: { timestamp: "user's", time: "free now" },
  });
  record.error = { name: "Error", message: "boom" };
  const doc = JSON.parse(format(record) as string);
  assert.equal(doc.timestamp, "1970-01-01T00:00:00.000Z");
  assert.equal(doc["fields.timestamp"], "user's");
  assert.equal(doc.time, "free now");
  assert.deepEqual(doc.err, { name: "Error", message: "boom" });
});

Deno.test("json keys are checked: unknown names with did-you-mean, two keys on one name, keys with a fixed naming", () => {
  assert.deepEqual(issues({ keys: { tiem: "ts" } }), [
    'sinks.out.format.keys.tiem: Unknown key "tiem" (did you mean "time"?)',
  ]);
  assert.deepEqual(issues({ keys: { message: "time" } }), [
    'sinks.out.format.keys.message: Both time and message would be written as "time"',
  ]);
  assert.deepEqual(issues({ naming: "ecs", keys: { time: "ts" } }), [
    "sinks.out.format.keys: keys cannot be combined with naming: ecs, whose names are fixed " +
    "(drop keys, or drop naming to rename Sluice's own keys)",
  ]);
  assert.match(issues({ naming: "elastic" })[0]!, /naming/);
});

Deno.test("json naming ecs writes ECS 8: @timestamp, log.level, ecs.version, service.name, trace.id, origin, error, fields under a namespace", () => {
  const format = make({ naming: "ecs", service: "payment-service" });
  const record = traced({
    level: 40,
    logger: "payment",
    message: "charge failed",
    // `host` and `user` are ECS objects: at the top level they would break the mapping.
    fields: { host: "web-1", user: "ada", amount: 99.99 },
    caller: { file: "/app/pay.ts", line: 12, column: 3, function: "charge", module: "pay" },
  });
  record.error = { name: "TypeError", message: "card declined", stack: "TypeError: card declined" };
  assert.deepEqual(JSON.parse(format(record) as string), {
    "@timestamp": "2023-11-14T22:13:20.123Z",
    "log.level": "error",
    message: "charge failed",
    "ecs.version": "8.11.0",
    "log.logger": "payment",
    "service.name": "payment-service",
    "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span.id": "00f067aa0ba902b7",
    "log.origin.file.name": "/app/pay.ts",
    "log.origin.file.line": 12,
    "log.origin.function": "charge",
    "error.type": "TypeError",
    "error.message": "card declined",
    "error.stack_trace": "TypeError: card declined",
    fields: { host: "web-1", user: "ada", amount: 99.99 },
  });
});

Deno.test("json naming ecs: service.name from the record's service field, a chosen namespace, no empty object", () => {
  const format = make({ naming: "ecs", namespace: "app" });
  const doc = JSON.parse(
    format(createRecord({ message: "m", fields: { service: "auth" } })) as string,
  );
  assert.equal(doc["service.name"], "auth");
  assert.deepEqual(doc.app, { service: "auth" });
  const bare = JSON.parse(format(createRecord({ message: "m" })) as string);
  assert.equal(bare.app, undefined);
  assert.equal(bare["service.name"], undefined);
});

Deno.test("json naming otel writes the OpenTelemetry log data model's names", () => {
  const format = make({ naming: "otel", service: "checkout" });
  const record = traced({
    level: 20,
    logger: "cart",
    message: "added",
    fields: { sku: "A-1" },
    caller: { file: "/app/cart.ts", line: 7, column: 1, function: "add", module: "cart" },
  });
  record.error = { name: "Error", message: "late" };
  assert.deepEqual(JSON.parse(format(record) as string), {
    Timestamp: "1700000000123000000",
    SeverityText: "INFO",
    SeverityNumber: 9,
    Body: "added",
    Attributes: {
      sku: "A-1",
      "exception.type": "Error",
      "exception.message": "late",
      "code.file.path": "/app/cart.ts",
      "code.line.number": 7,
      "code.function.name": "add",
    },
    TraceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    SpanId: "00f067aa0ba902b7",
    TraceFlags: 1,
    InstrumentationScope: { Name: "cart" },
    Resource: { "service.name": "checkout" },
  });
});

Deno.test("json keys and naming load from YAML", async () => {
  const yaml = [
    "sinks:",
    "  a: { type: console, format: { type: json, keys: { time: timestamp, message: msg } } }",
    "  b: { type: console, format: { type: json, naming: ecs, service: shop } }",
    "  c: { type: console, format: { type: json, naming: otel } }",
    "",
  ].join("\n");
  const { config } = await parseConfigText(yaml, "naming.yaml");
  assert.equal(Object.keys(config.sinks).length, 3);
});

Deno.test("json writes a record's call site as caller (renamable with keys); a field named caller then moves to fields.caller", () => {
  const caller = { file: "/app/pay.ts", line: 12, column: 3, function: "charge", module: "pay" };
  const record = createRecord({ time: 0, message: "m", fields: { caller: "mine", user: "ada" } });
  record.caller = caller;
  assert.equal(
    make({})(record),
    '{"time":"1970-01-01T00:00:00.000Z","level":"INFO","logger":"","message":"m",' +
      '"caller":{"file":"/app/pay.ts","line":12,"column":3,"function":"charge","module":"pay"},' +
      '"fields.caller":"mine","user":"ada"}',
  );
  const renamed = JSON.parse(make({ keys: { caller: "origin" } })(record) as string);
  assert.deepEqual(renamed.origin, caller);
  assert.equal(renamed.caller, "mine", "the old name is free for the field");
  const plain = createRecord({ time: 0, message: "m", fields: { caller: "mine" } });
  assert.equal(JSON.parse(make({})(plain) as string).caller, "mine", "no call site: no collision");
});

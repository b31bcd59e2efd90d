import assert from "node:assert/strict";
import { createRecord, type LogRecord } from "../../../../src/core/record.ts";
import {
  ecsDocument,
  elasticsearchPreset,
} from "../../../../plugins/sinks/http/presets/elasticsearch.ts";
import { jsonArrayPreset } from "../../../../plugins/sinks/http/presets/json_array.ts";
import { lokiPreset } from "../../../../plugins/sinks/http/presets/loki.ts";
import { ndjsonPreset } from "../../../../plugins/sinks/http/presets/ndjson.ts";
import { otlpPreset } from "../../../../plugins/sinks/http/presets/otlp.ts";
import { otelNanos as nanoseconds } from "../../../../src/format/otel_mapping.ts";
import type { HttpPreset } from "../../../../plugins/sinks/http/presets/preset.ts";

const T = Date.UTC(2024, 6, 1, 12, 30, 45, 123);

function encode(preset: HttpPreset, records: LogRecord[]): string {
  return preset.body(records.map((r) => preset.item(r)), records);
}

Deno.test("ndjson and json_array presets carry the formatter's lines", () => {
  const records = [createRecord({ message: "a" }), createRecord({ message: 'b"' })];
  const format = (r: LogRecord) => JSON.stringify({ m: r.message });
  assert.equal(encode(ndjsonPreset(format), records), '{"m":"a"}\n{"m":"b\\""}\n');
  assert.deepEqual(JSON.parse(encode(jsonArrayPreset(format), records)), [{ m: "a" }, { m: 'b"' }]);
  assert.throws(() => jsonArrayPreset((r) => r.message).item(records[0]!), SyntaxError);
});

Deno.test("otlp preset writes OTLP/HTTP JSON: scopes per logger, nanosecond strings, severity, attributes, trace context, exception", () => {
  const preset = otlpPreset({ resource: { "service.name": "payments", "service.version": "1.2" } });
  const records = [
    createRecord({
      time: T,
      level: 20,
      logger: "pay.api",
      message: "charged",
      fields: {
        amount: 12.5,
        count: 3,
        ok: true,
        tags: ["a", 1],
        meta: { k: null },
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
        span_id: "00f067aa0ba902b7",
      },
    }),
    {
      ...createRecord({ time: T + 0.5, level: 50, logger: "pay.db", message: "down" }),
      error: { name: "Error", message: "boom", stack: "Error: boom\n  at x" },
    },
    createRecord({
      time: T,
      level: 30,
      logger: "pay.api",
      message: "slow",
      fields: { trace_id: "not-hex" },
    }),
  ];
  const body = JSON.parse(encode(preset, records));
  assert.deepEqual(body.resourceLogs[0].resource, {
    attributes: [
      { key: "service.name", value: { stringValue: "payments" } },
      { key: "service.version", value: { stringValue: "1.2" } },
    ],
  });
  const scopes = body.resourceLogs[0].scopeLogs;
  assert.deepEqual(scopes.map((s: { scope: { name: string } }) => s.scope.name), [
    "pay.api",
    "pay.db",
  ]);
  assert.equal(scopes[0].logRecords.length, 2);
  assert.deepEqual(scopes[0].logRecords[0], {
    timeUnixNano: "1719837045123000000",
    observedTimeUnixNano: "1719837045123000000",
    severityNumber: 9,
    severityText: "INFO",
    body: { stringValue: "charged" },
    attributes: [
      { key: "amount", value: { doubleValue: 12.5 } },
      { key: "count", value: { intValue: "3" } },
      { key: "ok", value: { boolValue: true } },
      { key: "tags", value: { arrayValue: { values: [{ stringValue: "a" }, { intValue: "1" }] } } },
      { key: "meta", value: { kvlistValue: { values: [{ key: "k", value: {} }] } } },
    ],
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
  });
  assert.equal(scopes[0].logRecords[1].severityNumber, 13);
  assert.deepEqual(scopes[0].logRecords[1].attributes, [
    { key: "trace_id", value: { stringValue: "not-hex" } },
  ]);
  const fatal = scopes[1].logRecords[0];
  assert.equal(fatal.severityNumber, 21);
  assert.equal(fatal.severityText, "CRITICAL");
  assert.equal(fatal.timeUnixNano, "1719837045123500000");
  assert.deepEqual(fatal.attributes, [
    { key: "exception.type", value: { stringValue: "Error" } },
    { key: "exception.message", value: { stringValue: "boom" } },
    { key: "exception.stacktrace", value: { stringValue: "Error: boom\n  at x" } },
  ]);
  assert.equal(nanoseconds(1), "1000000");
  assert.equal(nanoseconds(1.000001), "1000001");
});

Deno.test("loki preset groups records into streams by label set with nanosecond string times", () => {
  const preset = lokiPreset(
    {
      labels: ["level", "logger", "service", "build-id"],
      staticLabels: { job: "sluice", "9x": "y" },
    },
    (r) => `msg=${r.message}`,
  );
  const records = [
    createRecord({ time: T, level: 20, logger: "api", message: "a", fields: { service: "pay" } }),
    createRecord({
      time: T + 1,
      level: 40,
      logger: "api",
      message: "b",
      fields: { service: "pay" },
    }),
    createRecord({
      time: T + 2,
      level: 20,
      logger: "api",
      message: "c",
      fields: { service: "pay", "build-id": 7 },
    }),
    createRecord({
      time: T + 3,
      level: 20,
      logger: "api",
      message: "d",
      fields: { service: "pay" },
    }),
  ];
  assert.deepEqual(JSON.parse(encode(preset, records)), {
    streams: [
      {
        stream: { job: "sluice", _9x: "y", level: "info", logger: "api", service: "pay" },
        values: [["1719837045123000000", "msg=a"], ["1719837045126000000", "msg=d"]],
      },
      {
        stream: { job: "sluice", _9x: "y", level: "error", logger: "api", service: "pay" },
        values: [["1719837045124000000", "msg=b"]],
      },
      {
        stream: {
          job: "sluice",
          _9x: "y",
          level: "info",
          logger: "api",
          service: "pay",
          build_id: "7",
        },
        values: [["1719837045125000000", "msg=c"]],
      },
    ],
  });
});

Deno.test("elasticsearch preset writes _bulk action and ECS source lines, dated indexes, and reads per-item failures", async () => {
  const preset = elasticsearchPreset({ index: "logs-%Y.%m.%d", action: "create" });
  const records = [
    createRecord({
      time: T,
      level: 30,
      logger: "api",
      message: "slow",
      fields: { ms: 900, message: "dup" },
    }),
    {
      ...createRecord({ time: T, level: 40, logger: "api", message: "x" }),
      error: { name: "E", message: "m" },
    },
  ];
  const lines = encode(preset, records).split("\n");
  assert.equal(lines.length, 5);
  assert.equal(lines[4], "");
  assert.deepEqual(JSON.parse(lines[0]!), { create: { _index: "logs-2024.07.01" } });
  assert.deepEqual(JSON.parse(lines[1]!), {
    "@timestamp": "2024-07-01T12:30:45.123Z",
    "log.level": "warn",
    "log.logger": "api",
    message: "slow",
    ms: 900,
    "fields.message": "dup",
  });
  assert.deepEqual(JSON.parse(lines[3]!)["error.type"], "E");
  const response = Response.json({
    took: 3,
    errors: true,
    items: [
      { create: { status: 201 } },
      { create: { status: 400, error: { type: "mapper_parsing_exception", reason: "bad field" } } },
      {
        create: { status: 429, error: { type: "es_rejected_execution_exception", reason: "busy" } },
      },
      { create: { status: 503 } },
    ],
  });
  assert.deepEqual(await preset.outcome!(response, 4), {
    retry: [2, 3],
    reject: [{ index: 1, reason: "elasticsearch_mapper_parsing_exception", detail: "bad field" }],
  });
  assert.deepEqual(await preset.outcome!(Response.json({ errors: false, items: [] }), 0), {
    retry: [],
    reject: [],
  });
  const plain = ecsDocument(createRecord({ time: 0, message: "m", fields: { big: 2n ** 70n } }));
  assert.equal(JSON.parse(plain).big, "1180591620717411303424");
});

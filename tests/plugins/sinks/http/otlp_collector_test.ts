import assert from "node:assert/strict";
import httpSink from "../../../../plugins/sinks/http/mod.ts";
import { otlpPreset } from "../../../../plugins/sinks/http/presets/otlp.ts";
import { createRecord, type LogRecord, serializeError } from "../../../../src/core/record.ts";
import { getLogger } from "../../../../src/logger/logger.ts";
import { counter, startPipeline } from "../../../helpers/net_pipeline.ts";
import {
  type AnyValue,
  attributesOf,
  logRecordsOf,
  parseExportLogsRequest,
  startOtlpCollector,
} from "../../../helpers/otlp_collector.ts";

const T = Date.UTC(2024, 6, 1, 12, 30, 45, 123);

function encode(records: LogRecord[]): string {
  const preset = otlpPreset({ resource: { "service.name": "payments", started: new Date(T) } });
  return preset.body(records.map((r) => preset.item(r)), records);
}

Deno.test("the strict collector refuses what a real one refuses (the checker itself can fail)", () => {
  const wrap = (log: unknown) =>
    JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [log] }] }] });
  const refusals: [unknown, RegExp][] = [
    [{ attributes: [{ key: "n", value: { intValue: "18446744073709551616" } }] }, /out of range/],
    [{ body: { stringValue: "a\ud800b" } }, /invalid UTF8/],
    [{ traceFlags: 1 }, /unknown/],
    [{ traceId: "not hex" }, /invalid traceId/],
    [{ body: { intValue: "1", stringValue: "1" } }, /oneof/],
  ];
  for (const [log, why] of refusals) assert.throws(() => parseExportLogsRequest(wrap(log)), why);
  const ok = parseExportLogsRequest(
    wrap({ traceId: "4BF92F3577B34DA6A3CE929D0E0E4736", flags: 1 }),
  );
  assert.equal(logRecordsOf(ok)[0]!.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
});

Deno.test("otlp: every hostile value encodes so a strict collector accepts it, as the value it was", () => {
  const wide = 2n ** 64n + 5n;
  const records = [
    createRecord({
      time: T,
      message: "big",
      fields: { big: wide, small: -(2n ** 63n), fits: 42n },
    }),
    createRecord({ time: T, message: "lone \ud800 surrogate", fields: { s: "x\udc00y" } }),
    createRecord({ time: T, message: "date", fields: { at: new Date(T), bad: new Date(NaN) } }),
    createRecord({
      time: T,
      message: "deep",
      fields: { list: [1n << 70n, "\ud83d"], m: { k: "\udfff" } },
    }),
    createRecord({ time: T, message: "keys", fields: { ["k\ud800"]: 1 } }),
  ];
  const request = parseExportLogsRequest(encode(records));
  const resource = request.resourceLogs![0]!.resource!.attributes!;
  assert.deepEqual(resource[1], {
    key: "started",
    value: { stringValue: "2024-07-01T12:30:45.123Z" },
  });
  const [big, lone, date, deep, keys] = logRecordsOf(request).map(attributesOf);
  assert.deepEqual(big, {
    big: { stringValue: wide.toString() },
    small: { intValue: (-(2n ** 63n)).toString() },
    fits: { intValue: "42" },
  });
  const message = logRecordsOf(request)[1]!.body!.stringValue;
  assert.equal(message, "lone \ufffd surrogate");
  assert.deepEqual(lone, { s: { stringValue: "x\ufffdy" } });
  assert.deepEqual(date, {
    at: { stringValue: "2024-07-01T12:30:45.123Z" },
    bad: { stringValue: "Invalid Date" },
  });
  assert.deepEqual(
    deep!.list,
    {
      arrayValue: { values: [{ stringValue: (1n << 70n).toString() }, { stringValue: "\ufffd" }] },
    } satisfies AnyValue,
  );
  assert.deepEqual(deep!.m, {
    kvlistValue: { values: [{ key: "k", value: { stringValue: "\ufffd" } }] },
  });
  assert.deepEqual(Object.keys(keys!), ["k\ufffd"]);
});

Deno.test("otlp: trace context from fields and records, any hex case, all-zero ids left out, flags", () => {
  const records = [
    createRecord({
      time: T,
      message: "upper",
      fields: {
        trace_id: "4BF92F3577B34DA6A3CE929D0E0E4736",
        span_id: "00F067AA0BA902B7",
        trace_flags: 1,
      },
    }),
    createRecord({
      time: T,
      message: "zeros",
      fields: { trace_id: "0".repeat(32), span_id: "0".repeat(16) },
    }),
    createRecord({
      time: T,
      message: "record",
      trace_id: "0af7651916cd43dd8448eb211c80319c",
      span_id: "b7ad6b7169203331",
      trace_flags: 1,
    }),
    createRecord({
      time: T,
      message: "zero span",
      trace_id: "0af7651916cd43dd8448eb211c80319c",
      span_id: "0".repeat(16),
    }),
  ];
  const logs = logRecordsOf(parseExportLogsRequest(encode(records)));
  assert.equal(logs[0]!.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(logs[0]!.spanId, "00f067aa0ba902b7");
  assert.equal(logs[0]!.flags, 1);
  assert.deepEqual(attributesOf(logs[0]!), {});
  // W3C: all-zero ids are invalid; they are neither ids nor left as look-alike attributes.
  assert.equal(logs[1]!.traceId, undefined);
  assert.equal(logs[1]!.spanId, undefined);
  assert.deepEqual(attributesOf(logs[1]!), {});
  assert.equal(logs[2]!.traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(logs[2]!.flags, 1);
  assert.equal(logs[3]!.traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(logs[3]!.spanId, undefined);
});

Deno.test("otlp: an error's cause chain is in the exception attributes", () => {
  const root = new RangeError("disk full");
  const middle = new TypeError("write failed", { cause: root });
  const error = serializeError(new Error("cannot save order", { cause: middle }));
  const logs = logRecordsOf(
    parseExportLogsRequest(encode([createRecord({ time: T, level: 40, message: "save", error })])),
  );
  const attributes = attributesOf(logs[0]!);
  assert.equal(attributes["exception.type"]?.stringValue, "Error");
  assert.equal(attributes["exception.message"]?.stringValue, "cannot save order");
  const stack = attributes["exception.stacktrace"]?.stringValue ?? "";
  // The stack trace reads like Java's and Python's chained traces: each cause after the last.
  assert.match(stack, /^Error: cannot save order\n\s+at /);
  assert.match(stack, /\nCaused by: TypeError: write failed\n\s+at /);
  assert.match(stack, /\nCaused by: RangeError: disk full\n\s+at /);
  assert.ok(stack.indexOf("TypeError") < stack.indexOf("RangeError"));
  // A cause that is not an Error and a chain without stacks still say every link.
  const plain = serializeError(new Error("outer", { cause: "socket closed" }));
  delete plain.stack;
  const log = logRecordsOf(
    parseExportLogsRequest(encode([createRecord({ time: T, message: "x", error: plain })])),
  )[0]!;
  assert.equal(
    attributesOf(log)["exception.stacktrace"]?.stringValue,
    "Error: outer\nCaused by: NonError: socket closed",
  );
});

Deno.test("otlp sink: a batch of 10 with one hostile value reaches a strict collector whole", async () => {
  await using collector = startOtlpCollector();
  const pipeline = await startPipeline({
    sources: { app: { type: "logger", logger: "hostile" } },
    sinks: {
      otlp: {
        type: "http",
        url: collector.url,
        preset: "otlp",
        inputs: ["app"],
        batch: { max_records: 100 },
      },
    },
  }, [httpSink]);
  try {
    const log = getLogger("hostile.otlp");
    for (let i = 0; i < 10; i++) {
      if (i === 3) log.info("huge", { n: 2n ** 64n });
      else if (i === 6) log.info("lone \ud800");
      else log.info("fine", { i });
    }
    assert.ok(await pipeline.flush());
    assert.deepEqual(collector.refused, []);
    assert.equal(collector.accepted.length, 10);
    assert.equal(counter(pipeline, "records_out_total", { component: "otlp" }), 10);
    assert.equal(counter(pipeline, "records_dropped_total", { component: "otlp" }), 0);
  } finally {
    await pipeline.shutdown();
  }
});

Deno.test("otlp sink: partialSuccess.rejectedLogRecords in a 200 answer counts as dropped with the reason", async () => {
  await using collector = startOtlpCollector();
  collector.answer((records) =>
    records.length === 4
      ? { partialSuccess: { rejectedLogRecords: "3", errorMessage: "attribute too long" } }
      : {}
  );
  const pipeline = await startPipeline({
    sources: { app: { type: "logger", logger: "partial" } },
    sinks: {
      otlp: { type: "http", url: collector.url, preset: "otlp", inputs: ["app"] },
    },
  }, [httpSink]);
  try {
    const log = getLogger("partial.otlp");
    for (let i = 0; i < 4; i++) log.info("r", { i });
    await pipeline.flush();
    log.info("after");
    await pipeline.flush();
    assert.equal(collector.accepted.length, 5);
    assert.equal(counter(pipeline, "records_out_total", { component: "otlp" }), 2);
    assert.equal(
      counter(pipeline, "records_dropped_total", { component: "otlp", reason: "otlp_rejected" }),
      3,
    );
  } finally {
    await pipeline.shutdown();
  }
});

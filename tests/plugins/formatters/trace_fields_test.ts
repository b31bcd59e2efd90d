import assert from "node:assert/strict";
import { createRecord, type LogRecord } from "../../../mod.ts";
import json from "../../../plugins/formatters/json/mod.ts";
import logfmt from "../../../plugins/formatters/logfmt.ts";
import syslog from "../../../plugins/formatters/syslog.ts";
import text from "../../../plugins/formatters/text/mod.ts";
import { ecsDocument } from "../../../plugins/sinks/http/presets/elasticsearch.ts";
import { otlpPreset } from "../../../plugins/sinks/http/presets/otlp.ts";
import { parseJsonLine } from "../../../src/parse/record_from_object.ts";
import type { Formatter, PluginContext } from "../../../src/plugin/types.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const PARENT = "b7ad6b7169203331";

function make(
  definition: {
    options: { parse: (...a: never[]) => unknown };
    create: (...a: never[]) => unknown;
  },
  raw: Record<string, unknown> = {},
): Formatter {
  const issues: unknown[] = [];
  const options = definition.options.parse(raw as never, [] as never, { issues } as never);
  assert.deepEqual(issues, []);
  return definition.create(options as never, {} as PluginContext as never) as Formatter;
}

const traced: LogRecord = createRecord({
  time: 0,
  level: 20,
  logger: "pay",
  message: "charged",
  fields: { amount: 5 },
  trace_id: TRACE,
  span_id: SPAN,
  parent_span_id: PARENT,
  trace_flags: 1,
});

Deno.test("text: {trace_id} {span_id} {parent_span_id} and Python's %(trace_id)s read the record's span", () => {
  const format = make(text, { pattern: "[{trace_id}/{span_id}<-{parent_span_id}] {message}" });
  assert.equal(format(traced), `[${TRACE}/${SPAN}<-${PARENT}] charged`);
  const python = make(text, { pattern: "%(name)s - [%(trace_id)s] - %(message)s" });
  assert.equal(python(traced), `pay - [${TRACE}] - charged`);
  // Without a span, a field of that name (the seed's "no_trace") is used.
  assert.equal(
    python(createRecord({ logger: "a", message: "m", fields: { trace_id: "no_trace" } })),
    "a - [no_trace] - m",
  );
});

Deno.test("json: trace ids after the message under stable names; colliding fields move aside", () => {
  const format = make(json);
  const line = format(traced) as string;
  assert.ok(line.includes(`"message":"charged","trace_id":"${TRACE}","span_id":"${SPAN}"`), line);
  assert.deepEqual(JSON.parse(line).parent_span_id, PARENT);
  const clash = format({ ...traced, fields: { trace_id: "mine" } }) as string;
  assert.equal(JSON.parse(clash).trace_id, TRACE);
  assert.equal(JSON.parse(clash)["fields.trace_id"], "mine");
  assert.equal(JSON.parse(format(createRecord({ message: "m" })) as string).trace_id, undefined);
});

Deno.test("json: a traced line read back by ingest has the same span on the record", () => {
  const line = make(json)(traced) as string;
  const back = parseJsonLine(line, 0);
  assert.equal(back.trace_id, TRACE);
  assert.equal(back.span_id, SPAN);
  assert.equal(back.parent_span_id, PARENT);
  assert.equal(back.fields.trace_id, undefined);
  // Ids that are not W3C ids stay fields.
  const seed = parseJsonLine('{"msg":"m","trace_id":"trace-123","span_id":"x"}', 0);
  assert.equal(seed.trace_id, undefined);
  assert.deepEqual(seed.fields, { trace_id: "trace-123", span_id: "x" });
});

Deno.test("logfmt and syslog carry the span", () => {
  assert.ok(
    (make(logfmt)(traced) as string).includes(
      `msg=charged trace_id=${TRACE} span_id=${SPAN} parent_span_id=${PARENT} amount=5`,
    ),
  );
  const rfc5424 = make(syslog, { hostname: "h", procid: "1", app_name: "pay" })(traced) as string;
  assert.ok(
    rfc5424.includes(
      `[fields@32473 trace_id="${TRACE}" span_id="${SPAN}" parent_span_id="${PARENT}" amount="5"]`,
    ),
    rfc5424,
  );
});

Deno.test("OTLP: traceId, spanId and flags from the record; ECS: trace.id, span.id, parent.id", () => {
  const preset = otlpPreset({ resource: {} });
  const log = JSON.parse(preset.item(traced));
  assert.equal(log.traceId, TRACE);
  assert.equal(log.spanId, SPAN);
  assert.equal(log.flags, 1);
  assert.deepEqual(
    log.attributes.find((a: { key: string }) => a.key === "parent_span_id").value,
    { stringValue: PARENT },
  );
  const doc = JSON.parse(ecsDocument(traced));
  assert.equal(doc["trace.id"], TRACE);
  assert.equal(doc["span.id"], SPAN);
  assert.equal(doc["parent.id"], PARENT);
});

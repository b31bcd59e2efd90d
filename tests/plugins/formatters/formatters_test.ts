import assert from "node:assert/strict";
import { createRecord, type LogRecord } from "../../../mod.ts";
import json from "../../../plugins/formatters/json.ts";
import logfmt from "../../../plugins/formatters/logfmt.ts";
import text from "../../../plugins/formatters/text/mod.ts";
import type { Formatter, PluginContext } from "../../../src/plugin/types.ts";

const context = {} as PluginContext;
const TIME = Date.UTC(2026, 10, 24, 6, 1, 35, 123);

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
  return definition.create(options as never, context as never) as Formatter;
}

const record: LogRecord = createRecord({
  time: TIME,
  level: 30,
  logger: "payment.db",
  message: 'slow "query"',
  fields: { rows: 3, user: { id: 7, name: "ada lovelace" } },
});

Deno.test("json formatter writes stable names and merges fields at the top level", () => {
  const line = make(json)(record) as string;
  assert.equal(
    line,
    '{"time":"2026-11-24T06:01:35.123Z","level":"WARN","logger":"payment.db","message":"slow \\"query\\"","rows":3,"user":{"id":7,"name":"ada lovelace"}}',
  );
  assert.deepEqual(Object.keys(JSON.parse(line)), [
    "time",
    "level",
    "logger",
    "message",
    "rows",
    "user",
  ]);
});

Deno.test("json formatter keeps reserved names and moves colliding fields under fields.", () => {
  const line = make(json)(
    createRecord({ time: 0, message: "m", fields: { level: "shadow", time: 1, ok: true } }),
  ) as string;
  const parsed = JSON.parse(line);
  assert.equal(parsed.level, "INFO");
  assert.equal(parsed.time, "1970-01-01T00:00:00.000Z");
  assert.equal(parsed["fields.level"], "shadow");
  assert.equal(parsed["fields.time"], 1);
  assert.equal(parsed.ok, true);
});

Deno.test("json formatter includes the error with its cause and survives cycles and BigInt", () => {
  const cyclic: Record<string, unknown> = { n: 10n };
  cyclic.self = cyclic;
  const line = make(json, { time: "epoch_ms", level: "number" })(createRecord({
    time: 5,
    level: 40,
    message: "boom",
    fields: { cyclic },
    error: { name: "Error", message: "outer", cause: { name: "TypeError", message: "inner" } },
  })) as string;
  const parsed = JSON.parse(line);
  assert.equal(parsed.time, 5);
  assert.equal(parsed.level, 40);
  assert.equal(parsed.cyclic.self, "[Circular]");
  assert.equal(parsed.cyclic.n, "10");
  assert.equal(parsed.error.cause.name, "TypeError");
});

Deno.test("text formatter renders the seed's Python pattern with asctime", () => {
  const format = make(text, {
    pattern: "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    time_format: "asctime",
  });
  assert.equal(format(record), '2026-11-24 06:01:35,123 - payment.db - WARNING - slow "query"');
});

Deno.test("text formatter supports brace placeholders, nested fields, padding and {fields}", () => {
  const format = make(text, {
    pattern: "[{level:<8}] {logger}: {message} user={user.id}{fields}",
    time_format: "time",
  });
  assert.equal(format(record), '[WARN    ] payment.db: slow "query" user=7 rows=3');
  const padLeft = make(text, { pattern: "{level:>5}|{missing}|{{literal}}" });
  assert.equal(padLeft(record), " WARN||{literal}");
});

Deno.test("text formatter default pattern appends fields and the error stack with causes", () => {
  const format = make(text);
  const error = new Error("outer", { cause: new TypeError("inner") });
  const line = format(createRecord({
    time: TIME,
    level: 40,
    logger: "",
    message: "failed",
    fields: { order: 7 },
    error: {
      name: "Error",
      message: "outer",
      stack: error.stack!,
      cause: { name: "TypeError", message: "inner" },
    },
  })) as string;
  const [first, ...rest] = line.split("\n");
  assert.equal(first, "2026-11-24T06:01:35.123Z ERROR root - failed order=7");
  assert.match(rest.join("\n"), /^Error: outer\n\s+at /);
  assert.match(line, /Caused by: TypeError: inner$/);
});

Deno.test("logfmt formatter quotes values that need it and flattens nested fields", () => {
  const line = make(logfmt)(record);
  assert.equal(
    line,
    'time=2026-11-24T06:01:35.123Z level=warn logger=payment.db msg="slow \\"query\\"" rows=3 user.id=7 user.name="ada lovelace"',
  );
  const withError = make(logfmt, { time: "epoch_ms" })(createRecord({
    time: 1,
    message: "x=y",
    fields: { empty: "", nothing: null },
    error: { name: "Error", message: "bad thing" },
  }));
  assert.equal(
    withError,
    'time=1 level=info logger=root msg="x=y" empty="" nothing=null error.name=Error error.message="bad thing"',
  );
});

import assert from "node:assert/strict";
import { createRecord, type LogRecord } from "../../../mod.ts";
import json from "../../../plugins/formatters/json/mod.ts";
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

/** The top-level keys of a JSON object in order, duplicates kept (JSON.parse keeps the last). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, j + 1)));
      expectKey = false;
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = depth === 1;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return keys;
}

const BUILT_IN: LogRecord = createRecord({
  time: 0,
  level: 40,
  logger: "clash",
  message: "m",
  error: { name: "Error", message: "real" },
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  span_id: "00f067aa0ba902b7",
  parent_span_id: "b7ad6b7169203331",
});

for (
  const key of [
    "time",
    "level",
    "logger",
    "message",
    "error",
    "trace_id",
    "span_id",
    "parent_span_id",
  ]
) {
  Deno.test(`json formatter: a field named ${key} beside the built-in ${key} is written once, as fields.${key}`, () => {
    const line = make(json)({ ...BUILT_IN, fields: { [key]: "from a field" } }) as string;
    const keys = topLevelKeys(line);
    assert.deepEqual(keys.filter((k) => k === key), [key], line);
    assert.deepEqual(keys.filter((k) => k === `fields.${key}`), [`fields.${key}`], line);
    const parsed = JSON.parse(line);
    assert.notEqual(parsed[key], "from a field");
    assert.equal(parsed[`fields.${key}`], "from a field");
  });
}

for (
  const key of ["time", "level", "logger", "msg", "error", "trace_id", "span_id", "parent_span_id"]
) {
  Deno.test(`logfmt formatter: a field named ${key} beside the built-in ${key} does not repeat a key`, () => {
    const line = make(logfmt)({ ...BUILT_IN, fields: { [key]: "from a field" } }) as string;
    const keys = line.match(/(?:^| )[^\s="]+(?==)/g)!.map((k) => k.trim());
    assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], line);
    assert.ok(line.includes(`fields.${key}="from a field"`), line);
  });
}

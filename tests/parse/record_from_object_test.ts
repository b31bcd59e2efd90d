import assert from "node:assert/strict";
import { parseJsonLine, parseTime, recordFromObject } from "../../src/parse/record_from_object.ts";

Deno.test("recordFromObject takes the first usable key of each kind, in documented order", () => {
  const record = recordFromObject({
    ts: 2,
    timestamp: "not a time",
    "@timestamp": "1970-01-01T00:00:03Z",
    lvl: "warn",
    severity: "bogus",
    name: 7,
    logger_name: "second",
    msg: "short",
    message: "long",
    user: "ada",
  }, 99);
  // `timestamp` is unusable, so `@timestamp` (ranked before `ts`) wins.
  assert.equal(record.time, 3000);
  // `severity` is not a level name, so `lvl` is used.
  assert.equal(record.level, 30);
  // `name` is not a string, so `logger_name` is used.
  assert.equal(record.logger, "second");
  assert.equal(record.message, "long");
  assert.deepEqual(record.fields, { user: "ada" });
});

Deno.test("recordFromObject prefers the best-ranked key wherever it appears in the object", () => {
  const record = recordFromObject({
    time: 1,
    ts: 2,
    level: "error",
    lvl: "debug",
    logger: "first",
    logger_name: "third",
    message: "long",
    msg: "short",
  }, 0);
  assert.equal(record.time, 1000);
  assert.equal(record.level, 40);
  assert.equal(record.logger, "first");
  assert.equal(record.message, "long");
  assert.deepEqual(record.fields, {});
  // The worst-ranked key of each kind is still used alone.
  const alone = recordFromObject({ ts: 2, lvl: "debug", logger_name: "third", msg: "short" }, 0);
  assert.deepEqual(
    [alone.time, alone.level, alone.logger, alone.message],
    [2000, 10, "third", "short"],
  );
});

Deno.test("recordFromObject defaults: now, INFO, root logger, empty message", () => {
  const record = recordFromObject({ a: 1 }, 1234);
  assert.deepEqual(record, { time: 1234, level: 20, logger: "", message: "", fields: { a: 1 } });
});

Deno.test("recordFromObject merges nested fields first and lets top-level keys override them in place", () => {
  const record = recordFromObject({ b: 2, fields: { a: 1, b: 0, c: 3 }, d: 4 }, 0);
  assert.deepEqual(Object.entries(record.fields), [["a", 1], ["b", 2], ["c", 3], ["d", 4]]);
  // Only the nested object's own keys are fields.
  const nested = Object.assign(Object.create({ inherited: 1 }), { own: 2 });
  assert.deepEqual(recordFromObject({ fields: nested }, 0).fields, { own: 2 });
});

Deno.test("recordFromObject keeps a __proto__ key as data, top-level or nested, also with --unsafe-proto", async () => {
  // Deno removes Object.prototype.__proto__ by default, which would make plain assignment safe
  // anyway: the check runs where the accessor exists, as it does for embedders that enable it.
  const module = new URL("../../src/parse/record_from_object.ts", import.meta.url).href;
  const code = `
    import { parseJsonLine } from ${JSON.stringify(module)};
    const out = [];
    for (const line of ['{"msg":"x","__proto__":{"polluted":true}}', '{"msg":"x","fields":{"__proto__":{"polluted":true}}}']) {
      const { fields } = parseJsonLine(line, 0);
      out.push(Object.hasOwn(fields, "__proto__"), Object.getPrototypeOf(fields) === Object.prototype);
    }
    out.push({}.polluted === undefined);
    console.log(JSON.stringify(out));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unsafe-proto", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(output.stderr), "");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), [
    true,
    true,
    true,
    true,
    true,
  ]);
});

Deno.test("recordFromObject reads errors as strings or objects with a cause chain", () => {
  assert.deepEqual(recordFromObject({ error: "boom" }, 0).error, {
    name: "Error",
    message: "boom",
  });
  const record = recordFromObject({
    error: { name: "TypeError", message: "bad", stack: "s", cause: { message: 5 } },
  }, 0);
  assert.deepEqual(record.error, {
    name: "TypeError",
    message: "bad",
    stack: "s",
    cause: { name: "Error", message: "5" },
  });
  assert.equal(recordFromObject({ error: 42 }, 0).error, undefined);
  assert.deepEqual(recordFromObject({ error: 42 }, 0).fields, {});
});

Deno.test("recordFromObject turns non-string messages into text and numeric levels into levels", () => {
  assert.equal(recordFromObject({ message: { a: 1 } }, 0).message, '{"a":1}');
  assert.equal(recordFromObject({ message: 5 }, 0).message, "5");
  assert.equal(recordFromObject({ message: null }, 0).message, "");
  assert.equal(recordFromObject({ level: 35 }, 0).level, 35);
  assert.equal(recordFromObject({ level: "40" }, 0).level, 40);
  assert.equal(recordFromObject({ level: "constructor" }, 0).level, 20);
  assert.equal(recordFromObject({ level: "toString", severity: "error" }, 0).level, 40);
});

Deno.test("parseTime reads seconds, milliseconds, numeric text and ISO text, and refuses the rest", () => {
  assert.equal(parseTime(1.5), 1500);
  assert.equal(parseTime("1.5"), 1500);
  assert.equal(parseTime(1_700_000_000_000), 1_700_000_000_000);
  assert.equal(parseTime("2026-01-01T00:00:00.123Z"), Date.UTC(2026, 0, 1) + 123);
  assert.equal(parseTime("2026-01-01T00:00:00.123Z"), Date.UTC(2026, 0, 1) + 123);
  assert.equal(parseTime("yesterday"), undefined);
  assert.equal(parseTime(""), undefined);
  assert.equal(parseTime(Infinity), undefined);
  assert.equal(parseTime(null), undefined);
});

Deno.test("parseJsonLine rejects invalid JSON and non-objects with their reasons", () => {
  for (
    const [line, reason] of [["{", "invalid_json"], ["[1]", "not_an_object"], [
      "3",
      "not_an_object",
    ], ["null", "not_an_object"]]
  ) {
    assert.throws(
      () => parseJsonLine(line!, 0),
      (error: { reason: string }) => error.reason === reason,
    );
  }
});

Deno.test("parseTime refuses times no Date can hold (1e300 or 8.7e15 ms), which no formatter can write", () => {
  assert.equal(parseTime(1e300), undefined);
  assert.equal(parseTime(8.7e15), undefined);
  assert.equal(parseTime(-8.7e15), undefined);
  assert.equal(parseTime(-1e300), undefined);
  assert.equal(parseTime("8700000000000000"), undefined);
  assert.equal(parseTime(8.64e15), 8.64e15);
  assert.equal(parseTime(-5), -5000);
});

Deno.test("recordFromObject keeps an unusable time as a field under its own key and takes the time of ingest", () => {
  for (
    const [key, value] of [["time", 1e300], ["timestamp", 8.7e15], ["ts", "yesterday"]] as const
  ) {
    const record = recordFromObject({ [key]: value, msg: "m" }, 1234);
    assert.equal(record.time, 1234, key);
    assert.deepEqual(record.fields, { [key]: value }, key);
  }
  // A usable key of another rank gives the time; the unusable one is consumed as before.
  const both = recordFromObject({ time: 1e300, ts: 2 }, 0);
  assert.equal(both.time, 2000);
  assert.deepEqual(both.fields, {});
});

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

Deno.test("recordFromObject defaults: now, INFO, root logger, empty message", () => {
  const record = recordFromObject({ a: 1 }, 1234);
  assert.deepEqual(record, { time: 1234, level: 20, logger: "", message: "", fields: { a: 1 } });
});

Deno.test("recordFromObject merges nested fields first and lets top-level keys override them in place", () => {
  const record = recordFromObject({ b: 2, fields: { a: 1, b: 0, c: 3 }, d: 4 }, 0);
  assert.deepEqual(Object.entries(record.fields), [["a", 1], ["b", 2], ["c", 3], ["d", 4]]);
});

Deno.test("recordFromObject keeps a __proto__ key as data, top-level or nested", () => {
  const top = parseJsonLine('{"msg":"x","__proto__":{"polluted":true}}', 0);
  assert.ok(Object.hasOwn(top.fields, "__proto__"));
  assert.equal(Object.getPrototypeOf(top.fields), Object.prototype);
  const nested = parseJsonLine('{"msg":"x","fields":{"__proto__":{"polluted":true}}}', 0);
  assert.ok(Object.hasOwn(nested.fields, "__proto__"));
  assert.equal(Object.getPrototypeOf(nested.fields), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
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

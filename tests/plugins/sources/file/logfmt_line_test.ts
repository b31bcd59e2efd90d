import assert from "node:assert/strict";
import { createRecord } from "../../../../src/core/record.ts";
import { parseLogfmt, parseLogfmtLine } from "../../../../plugins/sources/file/logfmt_line.ts";
import { ParseError } from "../../../../src/parse/parse_error.ts";
import logfmtFormatter from "../../../../plugins/formatters/logfmt.ts";

Deno.test("parseLogfmt reads bare, quoted and escaped values and bare keys", () => {
  assert.deepEqual(parseLogfmt('a=1 b="two words" c="say \\"hi\\"\\n" d= flag e=x=y'), {
    a: "1",
    b: "two words",
    c: 'say "hi"\n',
    d: "",
    flag: "true",
    e: "x=y",
  });
});

Deno.test("parseLogfmt rejects an unterminated quote and a line without pairs", () => {
  assert.throws(
    () => parseLogfmt('msg="never closed'),
    (e: unknown) =>
      e instanceof ParseError && e.reason === "invalid_logfmt" &&
      /unterminated quote/.test(e.message),
  );
  assert.throws(
    () => parseLogfmt("just some words"),
    (e: unknown) => e instanceof ParseError && e.reason === "invalid_logfmt",
  );
  assert.throws(() => parseLogfmt("=value"), ParseError);
});

Deno.test("parseLogfmtLine reads back what the logfmt formatter writes, error included", () => {
  const format = logfmtFormatter.create({ time: "iso" }, undefined as never) as (
    r: ReturnType<typeof createRecord>,
  ) => string;
  const original = createRecord({
    time: Date.UTC(2026, 10, 24, 10, 0, 0, 5),
    level: 40,
    logger: "db.pool",
    message: 'timeout after "30s"',
    fields: { attempt: 3, host: "db 1" },
    error: { name: "TimeoutError", message: "gave up", stack: "TimeoutError: gave up\n  at x" },
  });
  const record = parseLogfmtLine(format(original), 0);
  assert.equal(record.time, original.time);
  assert.equal(record.level, 40);
  assert.equal(record.logger, "db.pool");
  assert.equal(record.message, 'timeout after "30s"');
  assert.deepEqual(record.fields, { attempt: "3", host: "db 1" });
  assert.deepEqual(record.error, {
    name: "TimeoutError",
    message: "gave up",
    stack: "TimeoutError: gave up\n  at x",
  });
});

Deno.test("parseLogfmtLine fills time with now and level with INFO when absent", () => {
  const record = parseLogfmtLine("msg=hello", 1234);
  assert.equal(record.time, 1234);
  assert.equal(record.level, 20);
  assert.equal(record.message, "hello");
});

import assert from "node:assert/strict";
import { ParseError } from "../../../../src/parse/parse_error.ts";
import { compileRegexLine } from "../../../../plugins/sources/file/regex_line.ts";

Deno.test("compileRegexLine maps named groups to the record and other groups to fields", () => {
  const parse = compileRegexLine(
    String
      .raw`^(?<time>\S+) \[(?<level>\w+)\] (?<logger>[\w.]+): (?<message>.*?)(?: user=(?<user>\w+))?$`,
  );
  const record = parse("2026-11-24T10:00:00Z [warning] api.auth: token expired user=ada", 0);
  assert.equal(record.time, Date.UTC(2026, 10, 24, 10));
  assert.equal(record.level, 30);
  assert.equal(record.logger, "api.auth");
  assert.equal(record.message, "token expired");
  assert.deepEqual(record.fields, { user: "ada" });
  assert.deepEqual(parse("2026-11-24T10:00:00Z [info] api: no user", 0).fields, {});
});

Deno.test("compileRegexLine throws ParseError no_match for a line that does not match", () => {
  const parse = compileRegexLine("^(?<message>ok .*)$");
  assert.throws(
    () => parse("not ok", 0),
    (e: unknown) => e instanceof ParseError && e.reason === "no_match",
  );
});

Deno.test("compileRegexLine rejects invalid patterns and patterns without named groups", () => {
  assert.throws(() => compileRegexLine("(?<message>"), /Invalid pattern "\(\?<message>"/);
  assert.throws(() => compileRegexLine("^(.*)$"), /has no named group/);
});

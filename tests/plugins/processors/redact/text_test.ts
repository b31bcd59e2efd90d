import assert from "node:assert/strict";
import fc from "fast-check";
import { createRedactor } from "../../../../plugins/processors/redact/mod.ts";
import { BUILTIN_PATTERN_NAMES } from "../../../../plugins/processors/redact/patterns.ts";
import json from "../../../../plugins/formatters/json/mod.ts";
import { JsonBlockReader } from "../../../../src/parse/json_block_reader.ts";
import { parseJsonLine } from "../../../../src/parse/record_from_object.ts";
import { JsonFieldsRecord } from "../../../../src/core/json_fields_record.ts";
import type { LogRecord } from "../../../../src/core/record.ts";
import type { Formatter, PluginContext } from "../../../../src/plugin/types.ts";

// A redactor lets a record whose fields are still JSON text pass unparsed only when nothing in
// it could be redacted: for any line, redacting the block reader's record must write exactly
// what redacting parseJsonLine's record writes.

const format = json.create(
  json.options.parse({} as never, [], { issues: [] } as never)!,
  {} as PluginContext,
) as Formatter;
const reader = new JsonBlockReader({ maxLineBytes: 1 << 20, tooLarge: "frame_too_large" });
const PATHS = [
  "password",
  "*.token",
  "card.number",
  "headers.authorization",
  "*_key",
  "tokens.0",
  "Card.*.1",
  "\u212Aey", // the Kelvin sign: lower-cased, the path is "key"
  "key",
];

function fast(line: string): LogRecord {
  const out: LogRecord[] = [];
  assert.ok(reader.read(new TextEncoder().encode(line), line, 0, out, () => {}), line);
  assert.equal(out.length, 1, line);
  return out[0]!;
}

const secret = fc.constantFrom(
  "ada@example.com",
  "4111 1111 1111 1111",
  "4111111111111111",
  "123-45-6789",
  "AKIAIOSFODNN7EXAMPLE",
  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
  "Bearer abcdef0123456789",
  "postgres://app:s3cr3t@db:5432/app",
  "@example.com",
  "4111111111111112",
  "plain text",
  "",
  "caf\u00e9 ada@example.com",
  "\u65e5\u672c 4111 1111 1111 1111",
  "😀 Bearer abcdef0123456789",
);
const key = fc.constantFrom(
  "user",
  "password",
  "Password",
  "token",
  "api_key",
  "card",
  "number",
  "headers",
  "authorization",
  "tokens",
  "ada@example.com",
  "id",
  "key",
  "KEY",
  "\u212Aey",
  "caf\u00e9",
  "\u65e5\u672c",
  "😀",
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    secret,
    fc.integer(),
    fc.constantFrom(4111111111111111, 1234567890123, 0.5),
    fc.dictionary(key, tie("value"), { maxKeys: 3 }),
    fc.array(tie("value"), { maxLength: 3 }),
  ),
})).value;
const line = fc.tuple(secret, fc.dictionary(key, value, { maxKeys: 5 })).map(([message, fields]) =>
  JSON.stringify({ time: "2026-01-01T00:00:00.000Z", level: "info", message, ...fields })
);

Deno.test("redact: a record with fields as text is redacted exactly as a parsed one", () => {
  let passed = 0;
  let total = 0;
  for (
    const options of [
      { fields: PATHS, patterns: [...BUILTIN_PATTERN_NAMES] },
      { fields: [], patterns: ["email" as const] },
      { fields: ["password"], patterns: [] },
    ]
  ) {
    const redact = createRedactor({ ...options, mode: "mask", mask: "[REDACTED]" });
    assert.ok(JsonFieldsRecord.takesText(redact));
    fc.assert(
      fc.property(line, (text) => {
        const record = fast(text);
        if (JsonFieldsRecord.fieldsJson(record) === undefined) return;
        total++;
        const out = redact(record);
        if (JsonFieldsRecord.fieldsJson(out) !== undefined) passed++;
        assert.equal(format(out), format(redact(parseJsonLine(text, 0))), text);
      }),
      { numRuns: 1500 },
    );
  }
  // Both ways must be exercised: records passed unparsed and records redacted.
  assert.ok(passed > total / 10 && passed < total * 0.9, `${passed} of ${total} passed`);
});

Deno.test("redact: custom patterns and wildcard-only paths parse every record", () => {
  const custom = createRedactor({
    fields: [],
    patterns: [{ name: "order", regex: "^ord-\\d+$" }],
    mode: "mask",
    mask: "x",
  });
  const wildcards = createRedactor({ fields: ["**"], patterns: [], mode: "mask", mask: "x" });
  // An index is no key of the text: `*.0` has no named key to look for.
  const indexes = createRedactor({ fields: ["*.0"], patterns: [], mode: "mask", mask: "x" });
  for (const redact of [custom, wildcards, indexes]) {
    assert.equal(JsonFieldsRecord.takesText(redact), false);
  }
});

Deno.test("redact: a path ending in an array index redacts a record with fields as text", () => {
  const redact = createRedactor({ fields: ["tokens.0"], patterns: [], mode: "mask", mask: "X" });
  const line = '{"message":"m","tokens":["s3cret","other"]}';
  assert.equal(format(redact(fast(line))), format(redact(parseJsonLine(line, 0))));
  assert.deepEqual(redact(fast(line)).fields.tokens, ["X", "other"]);
});

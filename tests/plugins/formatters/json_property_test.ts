import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogRecord } from "../../../src/core/record.ts";
import { levelName } from "../../../src/core/levels.ts";
import json from "../../../plugins/formatters/json/mod.ts";
import type { Formatter, PluginContext } from "../../../src/plugin/types.ts";

// The json formatter caches the head of a line (time; level and logger) from one record to
// the next and checks each serialized value for lone surrogates instead of the whole line:
// a run of records that share or change any of these must still give each its own line.

function formatter(raw: Record<string, unknown>): Formatter {
  const issues: unknown[] = [];
  const options = json.options.parse(raw as never, [], { issues } as never);
  assert.deepEqual(issues, []);
  return json.create(options!, {} as PluginContext) as Formatter;
}

/** `value` as it reads back: lone surrogates as U+FFFD, in keys too. */
function wellFormed(value: unknown): unknown {
  if (typeof value === "string") return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.toWellFormed(), wellFormed(v)]),
    );
  }
  return value;
}

const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom("a\ud800", "\udc00b", "\ud83d\ude00", "\\ud800", "\\\\u0041", "\u0001", "ok"),
);
const FIELD_KEYS = ["id", "user", "time", "level", "logger", "message", "error", "trace_id"];
const fieldKey = fc.oneof(fc.constantFrom(...FIELD_KEYS), fc.constant("k\ud800"));
const value = fc.oneof(
  text,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(text, {
    maxLength: 2,
  }),
);
const recordArbitrary = fc.record({
  time: fc.constantFrom(0, 1, 999, 1000, 1_764_000_000_123, 1_764_000_000_124),
  level: fc.constantFrom(10, 20, 25, 30, 40),
  logger: fc.oneof(fc.constantFrom("", "app", "app.db"), text),
  message: text,
  fields: fc.dictionary(fieldKey, value, { maxKeys: 4 }),
  error: fc.option(fc.record({ name: fc.constant("Error"), message: text }), { nil: undefined }),
  traced: fc.boolean(),
});

Deno.test("json formatter: every line of a run of records is its own record, well-formed", () => {
  for (const raw of [{}, { time: "epoch_ms", level: "number" }, { keys: { message: "msg" } }]) {
    const format = formatter(raw);
    const messageKey = raw.keys?.message ?? "message";
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 12 }), (inputs) => {
        for (const input of inputs) {
          const record: LogRecord = {
            time: input.time,
            level: input.level,
            logger: input.logger,
            message: input.message,
            fields: input.fields,
          };
          if (input.error) record.error = input.error;
          if (input.traced) {
            record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
            record.span_id = "00f067aa0ba902b7";
          }
          const line = format(record) as string;
          const expected: Record<string, unknown> = {
            time: raw.time === "epoch_ms" ? input.time : new Date(input.time).toISOString(),
            level: raw.level === "number" ? input.level : levelName(input.level),
            logger: input.logger.toWellFormed(),
            [messageKey]: input.message.toWellFormed(),
          };
          if (input.traced) {
            expected.trace_id = record.trace_id;
            expected.span_id = record.span_id;
          }
          const reserved = ["time", "level", "logger", messageKey, "error"];
          if (input.traced) reserved.push("trace_id");
          for (const [key, v] of Object.entries(input.fields)) {
            const name = reserved.includes(key) ? `fields.${key}` : key.toWellFormed();
            expected[name] = wellFormed(v);
          }
          if (input.error) expected.error = wellFormed(input.error);
          assert.doesNotMatch(line, /(?<!\\)(\\\\)*\\ud[89a-f]/i, line);
          assert.deepEqual(JSON.parse(line), expected, line);
        }
      }),
      { numRuns: 300 },
    );
  }
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { JsonBlockReader } from "../../src/parse/json_block_reader.ts";
import { parseJsonLine } from "../../src/parse/record_from_object.ts";
import { JsonFieldsRecord } from "../../src/core/json_fields_record.ts";
import type { LogRecord } from "../../src/core/record.ts";
import json from "../../plugins/formatters/json/mod.ts";
import type { Formatter, PluginContext } from "../../src/plugin/types.ts";

// The block reader must give exactly what parseJsonLine and the json formatter give for each
// line (the record, its fields, the line written, the rejection's reason): a line the scanner
// takes that parseJsonLine rejects, or any difference in the output, is a bug.

const NOW = 1_700_000_000_000;

function formatter(raw: Record<string, unknown> = {}): Formatter {
  const issues: unknown[] = [];
  const options = json.options.parse(raw as never, [], { issues } as never);
  assert.deepEqual(issues, []);
  return json.create(options!, {} as PluginContext) as Formatter;
}

/** The record as plain data (the fields read, so a lazy record parses them). */
function plain(record: LogRecord): Record<string, unknown> {
  return { ...record, fields: { ...record.fields } };
}

function slowParse(line: string): LogRecord | Error {
  try {
    return parseJsonLine(line, NOW);
  } catch (error) {
    return error as Error;
  }
}

const KEYS = [
  "time",
  "level",
  "logger",
  "message",
  "msg",
  "ts",
  "timestamp",
  "name",
  "error",
  "fields",
  "trace_id",
  "span_id",
  "caller",
  "__proto__",
  "id",
  "user",
  "path",
  "0",
  "12",
  "01",
  "a b",
  "k\\u0041",
  'q\\"',
  "é",
  "😀",
];
const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);
const scalarText = fc.oneof(
  fc.constantFrom(
    '"2026-01-01T00:00:00.000Z"',
    '"2026-01-01T00:00:00.001Z"',
    '"2026-01-01T00:00:00Z"',
    '"not a time"',
    '"info"',
    '"WARN"',
    '"error"',
    '"bench"',
    '"a\\nb"',
    '"a\\/b"',
    '"\\u0041"',
    '"\\ud800"',
    '"tab\\there"',
    '"quote\\"d"',
    '"back\\\\slash"',
    '"\u0001"',
    '"\ud800"',
    '"\u2028"',
    '"😀"',
    '""',
    "0",
    "-0",
    "01",
    "1.50",
    "1e3",
    "1E+2",
    "0.000001",
    "0.0000001",
    "-0.5",
    "123456789012345",
    "1234567890123456",
    "0.1234567890123456",
    "0.123456789012345",
    '"\\u000a"',
    '"\\u0001"',
    '"\\u001f"',
    '"\\u001F"',
    '"\\u0008"',
    '{"__proto__":{"a":1}}',
    '{"a":{"b":{"c":[1,{"d":null}]}}}',
    "0.5",
    "-12",
    "20",
    "1700000000000",
    "1700000000.5",
    "12345678901234567890",
    "true",
    "false",
    "null",
    "nul",
    "[]",
    "{}",
    '[1,"a",{"b":null}]',
    '{"x":1,"x":2}',
    '{"2":1,"a":2}',
    '{"a":[1,[2,[3]]]}',
    '{"__proto__":1}',
    "[1,]",
    '{"a" :1}',
  ),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
  fc.double().map((d) => JSON.stringify(d)),
);
const member = fc.tuple(key, scalarText).map(([k, v]) => `"${k}":${v}`);
const line = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.array(member, { maxLength: 7 }).map((members) => `{${members.join(",")}}`),
  },
  // Near misses: whitespace, a cut line, trailing bytes, not an object.
  {
    weight: 2,
    arbitrary: fc.tuple(fc.array(member, { maxLength: 5 }), fc.nat(7)).map(([members, how]) => {
      const text = `{${members.join(",")}}`;
      switch (how) {
        case 0:
          return text.replace(",", ", ");
        case 1:
          return text.slice(0, -1);
        case 2:
          return text + "x";
        case 3:
          return " " + text;
        case 4:
          return `[${text}]`;
        case 5:
          return text.replace(":", ": ");
        case 6:
          return text + "\r";
        default:
          return text.replace("}", ",}");
      }
    }),
  },
);
/** The bench line's shape, with its values varied. */
const benchLike = fc.tuple(
  fc.integer({ min: 0, max: 5 }),
  fc.constantFrom("info", "warn", "INFO", "bogus"),
  fc.constantFrom("bench", "other", ""),
  fc.string({ maxLength: 8 }),
  fc.integer(),
).map(([ms, level, logger, message, id]) =>
  JSON.stringify({
    time: new Date(Date.UTC(2026, 0, 1) + ms).toISOString(),
    level,
    logger,
    message,
    id,
    user: "ada",
  })
);

const reader = new JsonBlockReader({ maxLineBytes: 1 << 20, tooLarge: "frame_too_large" });

type Outcome = { record: LogRecord } | { reason: string };

/** What the reader makes of `lines` as one block, in order. */
function readBlock(lines: string[], now = NOW): Outcome[] {
  const text = lines.join("\n");
  const out: LogRecord[] = [];
  const outcomes: Outcome[] = [];
  let taken = 0;
  const read = reader.read(new TextEncoder().encode(text), text, now, out, (_line, reason) => {
    while (taken < out.length) outcomes.push({ record: out[taken++]! });
    outcomes.push({ reason });
  });
  assert.ok(read, `declined ${JSON.stringify(text)}`);
  while (taken < out.length) outcomes.push({ record: out[taken++]! });
  return outcomes;
}

/** What parseJsonLine makes of each line, as TcpIngest's line path does. */
function readSlow(lines: string[]): Outcome[] {
  const outcomes: Outcome[] = [];
  for (let line of lines) {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "") continue;
    const slow = slowParse(line);
    outcomes.push(
      slow instanceof Error
        ? { reason: (slow as { reason?: string }).reason ?? "?" }
        : { record: slow },
    );
  }
  return outcomes;
}

function check(lines: string[], format: Formatter): number {
  // Lines the reader declines as a block (it says so; its callers then read line by line):
  // text that is not valid UTF-16, holds U+FFFD or a BOM; LF ends a line.
  lines = lines.filter((line) => line.isWellFormed() && !/[\n\ufffd\ufeff]/.test(line));
  const fast = readBlock(lines);
  const slow = readSlow(lines);
  assert.equal(fast.length, slow.length, `outcomes differ for ${JSON.stringify(lines)}`);
  let taken = 0;
  for (let i = 0; i < fast.length; i++) {
    const a = fast[i]!;
    const b = slow[i]!;
    const where = `line ${JSON.stringify(lines)}[${i}]`;
    if ("reason" in b) {
      assert.deepEqual(a, b, where);
      continue;
    }
    assert.ok("record" in a, `${where}: rejected, parseJsonLine reads it`);
    const record = a.record;
    if (JsonFieldsRecord.fieldsJson(record) !== undefined) taken++;
    assert.equal(format(record), format(b.record), `output differs for ${where}`);
    assert.deepEqual(plain(record), plain(b.record), `record differs for ${where}`);
    // Once read, the fields are plain data and the formatter takes the usual path.
    assert.equal(JsonFieldsRecord.fieldsJson(record), undefined);
    assert.equal(format(record), format(b.record));
  }
  return taken;
}

Deno.test("JsonBlockReader: every line reads as parseJsonLine reads it", () => {
  const format = formatter();
  let taken = 0;
  let total = 0;
  fc.assert(
    fc.property(fc.array(fc.oneof(line, benchLike), { maxLength: 12 }), (lines) => {
      total += lines.length;
      taken += check(lines, format);
    }),
    { numRuns: 3000 },
  );
  // The generator must exercise the scanner's path, not only the fallbacks.
  assert.ok(taken > total / 5, `only ${taken} of ${total} lines took the fast path`);
});

Deno.test("JsonBlockReader: other json formatter options ignore the kept text", () => {
  for (const options of [{ keys: { message: "msg" } }, { time: "epoch_ms", level: "number" }]) {
    const format = formatter(options);
    fc.assert(
      fc.property(fc.array(fc.oneof(line, benchLike), { maxLength: 6 }), (lines) => {
        check(lines, format);
      }),
      { numRuns: 300 },
    );
  }
});

function one(text: string): LogRecord {
  const [outcome] = readBlock([text]);
  assert.ok(outcome !== undefined && "record" in outcome, text);
  return outcome.record;
}

Deno.test("JsonBlockReader: the bench line is taken, its fields kept as text", () => {
  const text =
    '{"time":"2026-01-01T00:00:00.000Z","level":"info","logger":"bench","message":"hi","id":1,"user":"ada"}';
  const record = one(text);
  assert.ok(record instanceof JsonFieldsRecord);
  assert.equal(JsonFieldsRecord.fieldsJson(record), '"id":1,"user":"ada"');
  assert.equal(record.time, Date.UTC(2026, 0, 1));
  assert.equal(record.level, 20);
  assert.equal(record.logger, "bench");
  assert.equal(record.message, "hi");
  // Record keys after fields: the fields are joined from their pieces.
  const mixed = one('{"a":1,"message":"m","b":[2],"level":40,"c":{}}');
  assert.equal(JsonFieldsRecord.fieldsJson(mixed), '"a":1,"b":[2],"c":{}');
  assert.equal(mixed.level, 40);
  assert.equal(mixed.time, NOW);
  const escaped = one('{"logger":"a\\tb","message":"say \\"hi\\"\\n"}');
  assert.equal(escaped.logger, "a\tb");
  assert.equal(escaped.message, 'say "hi"\n');
  for (
    const refused of [
      '{"msg":"m","message":"n"}',
      '{"a":1,"a":2}',
      '{"0":1}',
      '{"a":1.0}',
      '{"a":"\\/"}',
      '{"a":1e3}',
      '{"time":"2026-02-30T00:00:00.000Z"}',
      '{"a": 1}',
      '{"error":"x"}',
      '{"a":0.0000001}',
      '{"a":"\\u000a"}',
      '{"a":"\\u001F"}',
      '{"a":"\\u0008"}',
      '{"__proto__":1}',
      '{"a":{"__proto__":1}}',
      '{"a":-0}',
      '{"a":1234567890123456}',
      '{"a":0.1234567890123456}',
      '{"level":"info","level":"warn"}',
      '{"time":1700000000.5}',
    ]
  ) {
    assert.equal(JsonFieldsRecord.fieldsJson(one(refused)), undefined, refused);
  }
});

Deno.test("JsonBlockReader: numbers and escapes JSON.stringify writes as they are, taken", () => {
  for (
    const taken of [
      '{"a":0.000001}',
      '{"a":"\\u001f\\u0001\\t\\"\\\\"}',
      '{"a":123456789012345}',
      '{"a":-0.5,"b":-12,"c":0}',
      '{"a":{"b":{"c":[1,{"d":null}]}},"e":[],"f":{}}',
      '{"ts":1700000000,"lvl":50,"name":"n","msg":"m"}',
    ]
  ) {
    const record = one(taken);
    assert.notEqual(JsonFieldsRecord.fieldsJson(record), undefined, taken);
    assert.equal(formatter()(record), formatter()(parseJsonLine(taken, NOW)), taken);
  }
});

Deno.test("JsonBlockReader: a block longer than the scanner's window and lines over the limit", () => {
  const small = new JsonBlockReader({ maxLineBytes: 100, tooLarge: "frame_too_large" });
  // 3 MiB of lines (the scanner takes 1 MiB at a time), a 2 MiB line among them, CRLF ends.
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    lines.push(JSON.stringify({ message: "m", i }) + (i % 3 ? "" : "\r"));
  }
  lines.splice(10_000, 0, JSON.stringify({ message: "x".repeat(2 << 20) }));
  lines.splice(15_000, 0, JSON.stringify({ message: "y".repeat(150) }));
  const text = lines.join("\n");
  const out: LogRecord[] = [];
  const rejected: [number, string][] = [];
  small.read(new TextEncoder().encode(text), text, NOW, out, (line, reason) => {
    rejected.push([line, reason]);
  });
  assert.deepEqual(rejected, [[10_000, "frame_too_large"], [15_000, "frame_too_large"]]);
  assert.deepEqual(out.map((r) => r.fields.i), Array.from({ length: 20_000 }, (_, i) => i));
});

Deno.test("JsonBlockReader: a block that may not be UTF-8, or holds a BOM, is left whole to the caller", () => {
  const replacing = new TextDecoder("utf-8", { ignoreBOM: true });
  const good = new TextEncoder().encode('{"message":"a"}\n');
  const declined = (bytes: Uint8Array, text = replacing.decode(bytes), keepText = true) => {
    const out: LogRecord[] = [];
    const read = reader.read(bytes, text, NOW, out, () => {}, undefined, keepText);
    assert.ok(read || out.length === 0);
    return !read;
  };
  // Invalid UTF-8 (a lone 0x80 decodes to one U+FFFD: as long as the bytes, yet not ASCII).
  for (const odd of [[0x80], [0xff], [0xed, 0xa0, 0x80], [0xc3]]) {
    assert.ok(declined(new Uint8Array([...good, 0x7b, 0x7d, ...odd])), String(odd));
  }
  // A BOM, kept in the text or removed by the decoder; a real U+FFFD.
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...good]);
  assert.ok(declined(bom));
  assert.ok(declined(bom, new TextDecoder().decode(bom)));
  assert.ok(declined(new TextEncoder().encode('{"message":"\ufffd"}')));
  // Valid UTF-8 is taken, but not parsed in full without keepText, nor past one window.
  const utf8 = new TextEncoder().encode('{"message":"\u00e9t\u00e9 🎉"}\n{"message":"a"}');
  assert.ok(!declined(utf8));
  assert.ok(declined(utf8, undefined, false));
  const big = new TextEncoder().encode(" ".repeat(3 << 20) + "é");
  assert.ok(declined(big));
});

Deno.test("JsonBlockReader: lines around UTF-8 ones keep their places in the text", () => {
  const lines = [
    '{"message":"caf\u00e9","n":1}',
    '{"message":"ascii","emoji":"🎉","n":2}',
    '{"message":"ascii","n":3}',
    '{"logger":"\u65e5\u672c","message":"x"}',
    '{"message":"after","n":4}',
    "not json 🎉",
    '{"message":"last","n":5}',
  ];
  const outcomes = readBlock(lines);
  assert.equal(check(lines, formatter()), 6, "every valid line takes the scanner, UTF-8 or not");
  const taken = outcomes.flatMap((o) => "record" in o ? [o.record] : []);
  assert.deepEqual(taken.map((r) => [r.logger, r.message, { ...r.fields }]), [
    ["", "café", { n: 1 }],
    ["", "ascii", { emoji: "🎉", n: 2 }],
    ["", "ascii", { n: 3 }],
    ["日本", "x", {}],
    ["", "after", { n: 4 }],
    ["", "last", { n: 5 }],
  ]);
});

Deno.test("JsonBlockReader: a line ending in two CRs loses one, as a line read alone does", () => {
  const large = new JsonBlockReader({ maxLineBytes: 4 << 20, tooLarge: "frame_too_large" });
  const long = "not json" + " ".repeat(1 << 20) + "x\r";
  // Within the scanner's window, and as one line longer than the window.
  for (
    const [text, line] of [[`not json\r\r\n{"message":"a"}`, "not json\r"], [`${long}\r`, long]]
  ) {
    const rejected: [number, string, string][] = [];
    large.read(new TextEncoder().encode(text!), text!, NOW, [], (at, _reason, message, cut) => {
      rejected.push([at, message, cut]);
    });
    assert.deepEqual(rejected, [[0, (slowParse(line!) as Error).message, line]]);
  }
});

Deno.test("JsonBlockReader: records charge their block at two bytes a character unless it is ASCII", () => {
  for (
    const [text, perChar] of [['{"message":"a"}', 1], ['{"message":"a"}\n{"message":"日本"}', 2]]
  ) {
    const out: LogRecord[] = [];
    assert.ok(
      reader.read(new TextEncoder().encode(text as string), text as string, 0, out, () => {}),
    );
    assert.equal(
      JsonFieldsRecord.blockOf(out[0]!)?.length,
      (text as string).length * (perChar as number),
    );
  }
});

Deno.test("JsonBlockReader: an empty line where the scanner's window is cut keeps its number", () => {
  // The window ends at the last line end of its first 1 MiB; when the line before that end is
  // empty, it still counts (before, every later line was numbered one too low, and a 1 MiB
  // line end as the window's only one lost its empty line too).
  const window = 1 << 20;
  const large = new JsonBlockReader({ maxLineBytes: 4 << 20, tooLarge: "frame_too_large" });
  const first = '{"message":"' + "x".repeat(window - 16) + '"}';
  for (
    const text of [
      `${first}\n\nbad\n{"message":"ok"}`,
      `${first}\r\n\r\nbad\n{"message":"ok"}`,
      `\n${"y".repeat(window)}\nbad`,
      `{}\n\n${first}\n\nbad\n`,
    ]
  ) {
    const expected = text.split("\n").flatMap((line, i) => line.startsWith("bad") ? [i] : []);
    const rejected: number[] = [];
    large.read(new TextEncoder().encode(text), text, NOW, [], (line) => rejected.push(line));
    const got = rejected.filter((line) => text.split("\n")[line]?.startsWith("y") !== true);
    assert.deepEqual(got, expected, JSON.stringify(text.slice(0, 20)));
  }
});

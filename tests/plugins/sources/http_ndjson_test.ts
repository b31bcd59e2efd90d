import assert from "node:assert/strict";
import type { LogRecord } from "../../../src/core/record.ts";
import { messageOf } from "../../../src/core/message_of.ts";
import { LineSplitter } from "../../../src/parse/line_splitter.ts";
import { ParseError } from "../../../src/parse/parse_error.ts";
import { parseJsonLine } from "../../../src/parse/record_from_object.ts";
import { ndjson } from "../../../plugins/sources/http/ndjson.ts";
import { seeded as random } from "../../pipeline/disk_buffer/sim_fs.ts";

interface Reading {
  records: LogRecord[];
  errors: { line?: number; reason: string; message: string }[];
  rejected: number;
  reasons: [string, number][];
}

/** The line-by-line reading every body had before ASCII bodies were read as one block. */
function lineByLine(body: Uint8Array, limit: number, now: number): Reading {
  const out: Reading = { records: [], errors: [], rejected: 0, reasons: [] };
  const reasons = new Map<string, number>();
  const note = (line: number, reason: string, message: string) => {
    out.rejected++;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (out.errors.length < 100) out.errors.push({ line, reason, message });
  };
  const splitter = new LineSplitter(limit, (reason, line) => {
    note(line, reason, reason === "invalid_utf8" ? "Not valid UTF-8" : "Line too long");
  });
  const lines = splitter.push(body);
  lines.push(...splitter.end());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === null || line === undefined || line.length === 0) continue;
    try {
      out.records.push(parseJsonLine(line, now));
    } catch (error) {
      if (line.trim() === "") continue;
      note(i + 1, error instanceof ParseError ? error.reason : "invalid_json", messageOf(error));
    }
  }
  out.errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  out.reasons = [...reasons];
  return out;
}

/** A record as plain data: a record read by the block reader keeps its fields as JSON text. */
function plain(record: LogRecord): LogRecord {
  const out: LogRecord = {
    time: record.time,
    level: record.level,
    logger: record.logger,
    message: record.message,
    fields: JSON.parse(JSON.stringify(record.fields)),
  };
  for (const key of ["error", "trace_id", "span_id", "parent_span_id"] as const) {
    if (record[key] !== undefined) (out as unknown as Record<string, unknown>)[key] = record[key];
  }
  return out;
}

function read(body: Uint8Array, limit: number, now: number, keepText = false): Reading {
  const parsed = ndjson(body, limit, now, keepText);
  return {
    records: keepText ? parsed.records.map(plain) : parsed.records,
    errors: parsed.errors,
    rejected: parsed.rejected,
    reasons: [...parsed.reasons],
  };
}

const PIECES = [
  '{"time":"2026-01-01T00:00:00.000Z","level":"info","logger":"bench","message":"ok","id":1}',
  '{"msg":"two","n":2}',
  '{"msg":"three", "fields": {"a": 1}}',
  '  {"msg":"padded"}  ',
  '{"level":"warn","msg":"w","error":{"name":"E","message":"m"}}',
  '{"msg":',
  '"just a string"',
  "[1,2]",
  "null",
  "42",
  "",
  "   ",
  "\t",
  "{}",
  '{"msg":"unterminated',
  "not json at all",
  '{"msg":"tab\\tand \\u00e9 escaped"}',
  '{"time":1e300,"msg":"bad time"}',
];

function body(rand: () => number, extra: string[] = []): string {
  const pieces = [...PIECES, ...extra];
  const lines: string[] = [];
  const count = Math.floor(rand() * 30);
  for (let i = 0; i < count; i++) {
    let line = pieces[Math.floor(rand() * pieces.length)]!;
    if (rand() < 0.2) line += "\r";
    lines.push(line);
  }
  let text = lines.join("\n");
  if (rand() < 0.5) text += "\n";
  if (rand() < 0.1) text += "\r\n\r\n";
  return text;
}

Deno.test("ndjson reads ASCII bodies as one block with the records, line numbers, reasons and messages of the line-by-line reading", () => {
  const rand = random(18);
  const encoder = new TextEncoder();
  for (let run = 0; run < 2_000; run++) {
    const text = body(rand);
    const bytes = encoder.encode(text);
    assert.equal(bytes.length, text.length, "the generated body is ASCII");
    const now = 1_700_000_000_000 + run;
    assert.deepEqual(
      read(bytes, 1 << 20, now),
      lineByLine(bytes, 1 << 20, now),
      JSON.stringify(text),
    );
  }
});

Deno.test("ndjson with the block reader (fields kept as text) gives the records, line numbers, reasons and messages of the line-by-line reading", () => {
  const rand = random(1_000_018);
  const encoder = new TextEncoder();
  // Lines in JSON.stringify's form, which the scanner takes without JSON.parse.
  const fast = Array.from({ length: 6 }, (_, i) =>
    JSON.stringify({
      time: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
      level: ["info", "warn", "error"][i % 3],
      logger: i % 2 ? "bench" : "api",
      message: i % 4 ? "request done" : 'say "hi"\tthere',
      id: i,
      user: "ada",
      ok: i % 2 === 0,
    }));
  for (let run = 0; run < 2_000; run++) {
    const text = body(rand, fast);
    const bytes = encoder.encode(text);
    const now = 1_700_000_000_000 + run;
    const expected = lineByLine(bytes, 1 << 20, now);
    expected.records = expected.records.map(plain);
    assert.deepEqual(read(bytes, 1 << 20, now, true), expected, JSON.stringify(text));
  }
});

Deno.test("ndjson reads bodies that are not ASCII (UTF-8, a BOM, invalid bytes) line by line as before", () => {
  const rand = random(1818);
  const encoder = new TextEncoder();
  const extra = ['{"msg":"béta 🎉"}', "\u00e9t\u00e9", '{"msg":"\ufffd"}'];
  for (let run = 0; run < 1_000; run++) {
    let bytes = encoder.encode(body(rand, extra));
    const roll = rand();
    if (roll < 0.2) bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);
    else if (roll < 0.5 && bytes.length > 0) {
      // Invalid UTF-8: a lone continuation byte, a truncated sequence, or 0xff.
      const at = Math.floor(rand() * bytes.length);
      const bad = [[0x80], [0xe2, 0x82], [0xff]][Math.floor(rand() * 3)]!;
      bytes = new Uint8Array([...bytes.subarray(0, at), ...bad, ...bytes.subarray(at)]);
    }
    assert.deepEqual(read(bytes, 1 << 20, 5), lineByLine(bytes, 1 << 20, 5), `run ${run}`);
    const expected = lineByLine(bytes, 1 << 20, 5);
    expected.records = expected.records.map(plain);
    assert.deepEqual(read(bytes, 1 << 20, 5, true), expected, `run ${run} with the block reader`);
  }
});

Deno.test("ndjson counts every rejection by reason while it lists the first 100", () => {
  const text = Array.from({ length: 250 }, (_, i) => (i % 5 === 0 ? '{"msg":"ok"}' : "[]")).join(
    "\n",
  );
  const parsed = ndjson(new TextEncoder().encode(text), 1 << 20, 0);
  assert.equal(parsed.records.length, 50);
  assert.equal(parsed.rejected, 200);
  assert.deepEqual([...parsed.reasons], [["not_an_object", 200]]);
  assert.equal(parsed.errors.length, 100);
  assert.deepEqual(parsed.errors.slice(0, 2).map((e) => e.line), [2, 3]);
});

Deno.test("ndjson says how many lines skipped JSON.parse (sluice_records_scanned_total)", () => {
  const lines = ['{"message":"a","n":1}', '{ "message": "spaced" }', '{"message":"b","n":2}'];
  const body = new TextEncoder().encode(lines.join("\n"));
  assert.equal(ndjson(body, 1 << 20, 0, true).scanned, 2);
  assert.equal(ndjson(body, 1 << 20, 0, false).scanned, 0);
});

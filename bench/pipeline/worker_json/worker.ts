/**
 * The Worker of the worker-ingest prototype (issue #18): takes a chunk of complete lines,
 * decodes it once, parses each line into a record (`parseJsonLine`), optionally redacts it,
 * formats it with the json formatter, and answers one string of lines plus compact headers.
 *
 * In: `{ id, bytes: ArrayBuffer (transferred), length, now }`. Out: `{ id, text, ends,
 * times, levels, strs, strEnds, rejects }`: record i's line is `text` from `ends[i-1]` (or 0)
 * to `ends[i] - 1` (its newline), its logger and message are `strs` cut at `strEnds[2i]`
 * and `strEnds[2i+1]`.
 *
 * @module
 */

import { parseJsonLine } from "../../../src/parse/record_from_object.ts";
import { ParseError } from "../../../src/parse/parse_error.ts";
import { createRedactor } from "../../../plugins/processors/redact/mod.ts";
import { BUILTIN_PATTERN_NAMES } from "../../../plugins/processors/redact/patterns.ts";
import json from "../../../plugins/formatters/json/mod.ts";
import type { LogRecord } from "../../../src/core/record.ts";

interface Scope {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as Scope;
// The json formatter with default options, without loading every built-in into the Worker.
const format = json.create(
  json.options.parse({}, [], { issues: [] })!,
  {} as Parameters<typeof json.create>[1],
) as (record: LogRecord) => string;
const fatal = new TextDecoder("utf-8", { fatal: true });
let redact: ((record: LogRecord) => LogRecord) | undefined;
/** Answer the lines as UTF-8 bytes only (the `write_to` mode of source.ts). */
let bytesOnly = false;
const encoder = new TextEncoder();

interface Request {
  id: number;
  bytes: ArrayBuffer;
  offset: number;
  length: number;
  now: number;
  redact?: boolean;
}

scope.onmessage = (event: MessageEvent) => {
  const request = event.data as Request | {
    setup: true;
    redact: boolean;
    bytes: boolean;
    id: number;
  };
  if ("setup" in request) {
    bytesOnly = request.bytes;
    if (request.redact) {
      redact = createRedactor({
        fields: ["password", "*.token", "card.number", "headers.authorization"],
        patterns: BUILTIN_PATTERN_NAMES,
        mode: "mask",
        mask: "[REDACTED]",
      });
    }
    scope.postMessage({ id: request.id, ready: true });
    return;
  }
  const { id, bytes, offset, length, now } = request;
  const view = new Uint8Array(bytes, offset, length);
  const rejects: Record<string, number> = {};
  let lines: string[];
  try {
    lines = fatal.decode(view).split("\n");
  } catch {
    // A chunk with invalid UTF-8: line by line, so that only the bad lines are rejected.
    lines = [];
    let start = 0;
    for (;;) {
      let stop = view.indexOf(10, start);
      if (stop === -1) stop = view.length;
      try {
        lines.push(fatal.decode(view.subarray(start, stop)));
      } catch {
        rejects.invalid_utf8 = (rejects.invalid_utf8 ?? 0) + 1;
      }
      if (stop >= view.length) break;
      start = stop + 1;
    }
  }
  const n = lines.length;
  const ends = new Int32Array(n);
  const times = new Float64Array(n);
  const levels = new Int32Array(n);
  const strEnds = new Int32Array(2 * n);
  let text = "";
  let strs = "";
  let count = 0;
  for (let i = 0; i < n; i++) {
    let line = lines[i]!;
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (line === "") continue;
    let record: LogRecord;
    try {
      record = parseJsonLine(line, now);
      if (redact) record = redact(record);
    } catch (error) {
      const reason = error instanceof ParseError ? error.reason : "parse_error";
      rejects[reason] = (rejects[reason] ?? 0) + 1;
      continue;
    }
    text += format(record) + "\n";
    ends[count] = text.length;
    times[count] = record.time;
    levels[count] = record.level;
    strs += record.logger;
    strEnds[2 * count] = strs.length;
    strs += record.message;
    strEnds[2 * count + 1] = strs.length;
    count++;
  }
  if (bytesOnly) {
    const out = encoder.encode(text).buffer;
    scope.postMessage({ id, count, out, rejects }, [out]);
    return;
  }
  scope.postMessage(
    { id, count, text, ends, times, levels, strs, strEnds, rejects },
    [ends.buffer, times.buffer, levels.buffer, strEnds.buffer],
  );
};

/**
 * Reads an output file back and checks every line of the benchmark workload: the message and
 * all four fields must be present, ids distinct and within range. Shared by the comparison
 * scripts, so a loss or a duplicate shows as a number, never as speed.
 *
 * @module
 */

import { MESSAGE } from "./peers/common.ts";

/** What a file held. */
export interface Check {
  /** Non-empty lines. */
  lines: number;
  /** Distinct valid ids in [0, n). */
  distinct: number;
  /** Valid lines whose id was seen before. */
  duplicates: number;
  /** Lines without the message, a field, or a valid id. */
  malformed: number;
  /** File size. */
  bytes: number;
}

/**
 * Checks `path`, written with `n` records: `json` lines (fields at the top level, or under
 * `properties` as LogTape writes them; the message as `message` or pino's `msg`) or `text`
 * lines (`request handled id=… user=ada path=/api/orders status=200`, values optionally quoted).
 * `expect` adds a check of each JSON line's other keys (time, level, logger) for record `id`;
 * a line that fails it counts as malformed.
 */
export async function verifyOutput(
  path: string,
  mode: "json" | "text",
  n: number,
  expect?: (record: Record<string, unknown>, id: number) => boolean,
): Promise<Check> {
  const bytes = await Deno.readFile(path);
  const text = new TextDecoder().decode(bytes);
  const seen = new Uint8Array(n);
  let lines = 0;
  let distinct = 0;
  let duplicates = 0;
  let malformed = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    lines++;
    const id = mode === "json" ? jsonId(line, expect) : textId(line);
    if (id === undefined || !Number.isInteger(id) || id < 0 || id >= n) {
      malformed++;
      continue;
    }
    if (seen[id]) duplicates++;
    else {
      seen[id] = 1;
      distinct++;
    }
  }
  return { lines, distinct, duplicates, malformed, bytes: bytes.length };
}

function jsonId(
  line: string,
  expect?: (record: Record<string, unknown>, id: number) => boolean,
): number | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  const fields =
    (typeof record.properties === "object" && record.properties !== null
      ? record.properties
      : record) as Record<string, unknown>;
  const message = record.message ?? record.msg;
  if (message !== MESSAGE) return undefined;
  if (fields.user !== "ada" || fields.path !== "/api/orders" || fields.status !== 200) {
    return undefined;
  }
  if (typeof fields.id !== "number") return undefined;
  return expect === undefined || expect(record, fields.id) ? fields.id : undefined;
}

const TEXT_LINE = /request handled id=(\d+) user="?ada"? path="?\/api\/orders"? status=200\b/;

function textId(line: string): number | undefined {
  const match = TEXT_LINE.exec(line);
  return match ? Number(match[1]) : undefined;
}

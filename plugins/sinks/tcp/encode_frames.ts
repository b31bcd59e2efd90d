/**
 * Formats a batch into one buffer of stream frames: newline-terminated lines or RFC 6587
 * octet-counted messages.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import type { Formatter } from "../../../src/plugin/types.ts";
import { concatBytes } from "../../../src/core/concat_bytes.ts";
import { utf8Length } from "../../../src/core/utf8_length.ts";
import { formatBatch } from "../../../src/io/encode_batch.ts";

const encoder = new TextEncoder();

/**
 * Formats every record into one `Uint8Array` of frames. `newline`: each line ends in `\n`; a
 * line break inside a record (a stack trace, a multi-line message) is written as the two
 * characters `\n` so that it stays one frame. `octet_counting`: each message is preceded by
 * its byte length and a space (`LEN SP MSG`, RFC 6587 §3.4.1) and may hold line breaks.
 * Records the formatter throws on are passed to `onError` and left out.
 *
 * @example Octet-counted frames
 * ```ts
 * import { encodeFrames } from "./encode_frames.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeFrames([createRecord({ message: "é" }), createRecord({ message: "a\nb" })], (r) => r.message, "octet_counting");
 * assert.ok(new TextDecoder().decode(bytes) === "2 é3 a\nb");
 * ```
 */
export function encodeFrames(
  records: readonly LogRecord[],
  format: Formatter,
  framing: "newline" | "octet_counting",
  onError?: (record: LogRecord, error: unknown) => void,
): Uint8Array {
  // One closure per batch, not per record; the framing of a line never throws, so what
  // reaches `onError` is the formatter's.
  const joined = framing === "octet_counting"
    ? formatBatch(records, (record) => octetFrame(format(record)), onError, "")
    : formatBatch(records, (record) => newlineFrame(format(record)), onError);
  return typeof joined === "string" ? encoder.encode(joined) : joined;
}

/** `LEN SP MSG` (RFC 6587 §3.4.1). */
function octetFrame(line: string | Uint8Array): string | Uint8Array {
  if (typeof line === "string") return utf8Length(line) + " " + line;
  return concatBytes([encoder.encode(line.length + " "), line]);
}

/** A line break inside the record becomes the two characters `\n`: one record, one line. */
function newlineFrame(line: string | Uint8Array): string | Uint8Array {
  if (typeof line === "string") {
    return line.includes("\n") ? line.replace(/\r?\n/g, "\\n") : line;
  }
  return line.includes(10) ? escapeBytes(line) : line;
}

function escapeBytes(line: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const b of line) {
    if (b === 10) out.push(92, 110);
    else out.push(b);
  }
  return Uint8Array.from(out);
}

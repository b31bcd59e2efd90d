/**
 * The frames of a disk buffer's segment files: each append is one frame, a fixed header
 * followed by the JSON text of its records.
 *
 * ```text
 * offset  size  field
 *      0     4  magic 0xFF "SLB" (0xFF never occurs in UTF-8, so never inside a payload)
 *      4     4  payload length, u32 little-endian
 *      8     4  record count, u32 little-endian
 *     12     8  append time, epoch ms, f64 little-endian
 *     20     4  CRC-32 of bytes 4..20 and of the payload
 *     24     n  payload: a JSON array of records, UTF-8
 * ```
 *
 * A reader that finds anything else at a frame boundary (a torn tail, flipped bits, zeros
 * a power loss left) skips to the next magic whose frame checks out: the bytes in between are
 * one corrupt region, reported, never a loop and never a crash.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import type { LogRecord } from "../../core/record.ts";
import { safeStringify } from "../../core/safe_stringify.ts";
import type { BufferFile } from "./buffer_fs.ts";

/** Bytes before a frame's payload. */
export const FRAME_HEADER = 24;
const MAGIC0 = 0xff, MAGIC1 = 0x53, MAGIC2 = 0x4c, MAGIC3 = 0x42;
/**
 * How much a reader reads at once. Frames are one append each (an HTTP request's records,
 * a TCP read's lines): 1 MiB holds many, and a larger frame is read whole.
 */
const CHUNK = 1024 * 1024;
/** A scratch buffer larger than this is not kept between frames (memory stays bounded). */
const SCRATCH_MAX = 4 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let scratch = new Uint8Array(64 * 1024);

/**
 * Encodes `records` as one frame appended at `time`. The result is valid until the next call
 * (it may be a view of a reused buffer): write it at once.
 *
 * @example Encode and read back
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeRecords, encodeFrame, FRAME_HEADER } from "./frame.ts";
 * const record = { time: 1, level: 20, logger: "", message: "hi", fields: {} };
 * const frame = encodeFrame([record], 1000);
 * assert.equal(frame[0], 0xff);
 * assert.deepEqual(decodeRecords(frame.subarray(FRAME_HEADER)), [record]);
 * ```
 */
export function encodeFrame(records: readonly LogRecord[], time: number): Uint8Array {
  const text = safeStringify(records);
  const worst = FRAME_HEADER + text.length * 3;
  let buffer = scratch;
  if (worst > buffer.length) {
    buffer = new Uint8Array(worst);
    if (worst <= SCRATCH_MAX) scratch = buffer;
  }
  const { written } = encoder.encodeInto(text, buffer.subarray(FRAME_HEADER));
  const view = new DataView(buffer.buffer, buffer.byteOffset, FRAME_HEADER);
  buffer[0] = MAGIC0;
  buffer[1] = MAGIC1;
  buffer[2] = MAGIC2;
  buffer[3] = MAGIC3;
  view.setUint32(4, written, true);
  view.setUint32(8, records.length, true);
  view.setFloat64(12, time, true);
  const payload = buffer.subarray(FRAME_HEADER, FRAME_HEADER + written);
  view.setUint32(20, crc32(payload, crc32(buffer.subarray(4, 20))), true);
  return buffer.subarray(0, FRAME_HEADER + written);
}

/**
 * The records of a frame's payload. Throws when the payload is not a JSON array of records
 * (a frame whose checksum matched holds one: this guards against a writer bug).
 */
export function decodeRecords(payload: Uint8Array): LogRecord[] {
  const value: unknown = JSON.parse(decoder.decode(payload));
  if (!Array.isArray(value)) throw new TypeError("A frame's payload is not an array");
  for (const record of value) {
    if (typeof record?.message !== "string" || typeof record.level !== "number") {
      throw new TypeError("A frame's payload holds a value that is not a record");
    }
  }
  return value as LogRecord[];
}

/** A frame that checked out. */
export interface Frame {
  /** Where it starts in its segment. */
  offset: number;
  /** Where the next frame starts. */
  end: number;
  /** How many records it holds. */
  count: number;
  /** When it was appended (epoch ms). */
  time: number;
  /** The JSON text of its records. */
  payload: Uint8Array;
}

/** Bytes at a frame boundary that are not a frame, up to where the next good frame starts. */
export interface CorruptRegion {
  /** Where the bad bytes start. */
  offset: number;
  /** Where the next good frame (or the end of the segment) starts. */
  end: number;
}

/**
 * Reads frames of one segment file in chunks. `size` is what the reader may read: a segment
 * being written grows, and its writer moves `size` after each append.
 */
export class SegmentReader {
  #chunk: Uint8Array = new Uint8Array(0);
  #chunkStart = 0;

  /** Reads `file`, whose first `size` bytes hold whole frames or damage. */
  constructor(readonly file: BufferFile, public size: number) {}

  /**
   * The frame at `offset`, the corrupt region there, or `undefined` at the end. Frames are
   * checked (magic, length within the segment, CRC, record count); a corrupt region ends at
   * the next offset holding a frame that checks out, or at the end of the segment.
   */
  next(offset: number): { frame: Frame } | { corrupt: CorruptRegion } | undefined {
    if (offset >= this.size) return undefined;
    const frame = this.#frameAt(offset);
    if (frame) return { frame };
    let at = offset + 1;
    for (;;) {
      at = this.#findMagic(at);
      if (at >= this.size || this.#frameAt(at)) return { corrupt: { offset, end: at } };
      at++;
    }
  }

  #frameAt(offset: number): Frame | undefined {
    const header = this.#bytes(offset, FRAME_HEADER);
    if (
      header.length < FRAME_HEADER || header[0] !== MAGIC0 || header[1] !== MAGIC1 ||
      header[2] !== MAGIC2 || header[3] !== MAGIC3
    ) return undefined;
    const view = new DataView(header.buffer, header.byteOffset, FRAME_HEADER);
    const length = view.getUint32(4, true);
    const count = view.getUint32(8, true);
    const time = view.getFloat64(12, true);
    const sum = view.getUint32(20, true);
    const end = offset + FRAME_HEADER + length;
    if (end > this.size) return undefined;
    const headerSum = crc32(header.subarray(4, 20));
    const payload = this.#bytes(offset + FRAME_HEADER, length);
    if (payload.length < length || crc32(payload, headerSum) !== sum) return undefined;
    return { offset, end, count, time, payload };
  }

  /** The next offset at or after `from` that starts with the magic (or `size`). */
  #findMagic(from: number): number {
    let at = from;
    while (at < this.size) {
      const bytes = this.#bytes(at, Math.min(CHUNK, this.size - at));
      let i = bytes.indexOf(MAGIC0);
      while (i !== -1 && i + 3 < bytes.length) {
        if (bytes[i + 1] === MAGIC1 && bytes[i + 2] === MAGIC2 && bytes[i + 3] === MAGIC3) {
          return at + i;
        }
        i = bytes.indexOf(MAGIC0, i + 1);
      }
      if (i !== -1) {
        // A magic may straddle the chunk's end: look again from it.
        if (at + i + 4 > this.size) return this.size;
        at += i;
        if (i === 0) at++;
        continue;
      }
      at += bytes.length;
      if (bytes.length === 0) break;
    }
    return this.size;
  }

  /** `length` bytes at `offset` (fewer at the end of the file), from the cached chunk. */
  #bytes(offset: number, length: number): Uint8Array {
    const start = offset - this.#chunkStart;
    if (start >= 0 && start + length <= this.#chunk.length) {
      return this.#chunk.subarray(start, start + length);
    }
    const want = Math.min(Math.max(CHUNK, length), Math.max(length, this.size - offset));
    this.#chunk = this.file.readAt(offset, want);
    this.#chunkStart = offset;
    return this.#chunk.subarray(0, Math.min(length, this.#chunk.length));
  }
}

/**
 * Splits a byte stream into UTF-8 text lines, in large chunks, with per-line rejections.
 *
 * @module
 */

import { utf8Length } from "../core/utf8_length.ts";

/** Why a line could not be returned: it was not valid UTF-8 or was longer than allowed. */
export type LineRejection = "invalid_utf8" | "line_too_long";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 13;

/**
 * Splits chunks of bytes on `\n` (a trailing `\r` is removed). Each complete line becomes one
 * entry of the array `push()` returns, in order: its text, or `null` when the line was
 * rejected (invalid UTF-8, or more than `maxLineBytes` bytes), reported through `onReject`
 * with its 1-based line number. The bytes of a chunk's complete lines are decoded in one
 * call; only a chunk holding invalid UTF-8 is decoded line by line to find the culprits.
 * Memory stays bounded: an overlong line is discarded as it arrives, not buffered.
 *
 * @example Split two chunks
 * ```ts
 * import { LineSplitter } from "./line_splitter.ts";
 * import assert from "node:assert/strict";
 * const splitter = new LineSplitter(1024, () => {});
 * const bytes = new TextEncoder().encode("one\r\ntw");
 * const first = splitter.push(bytes);
 * const second = splitter.push(new TextEncoder().encode("o\nthree"));
 * assert.ok(first.join() === "one" && second.join() === "two");
 * assert.ok(splitter.end().join() === "three" && splitter.lines === 3);
 * ```
 */
export class LineSplitter {
  /** Lines completed so far (the number of the last line returned). */
  lines = 0;
  readonly #maxLineBytes: number;
  readonly #onReject: (reason: LineRejection, line: number) => void;
  readonly #fatal = new TextDecoder("utf-8", { fatal: true });
  #rest: Uint8Array | undefined;
  #discarding = false;

  /**
   * Creates a splitter. `onReject(reason, line)` hears of every rejected line as its end is
   * seen (an overlong line when its end arrives, so that its number is known).
   */
  constructor(maxLineBytes: number, onReject: (reason: LineRejection, line: number) => void) {
    this.#maxLineBytes = maxLineBytes;
    this.#onReject = onReject;
  }

  /** Adds a chunk; returns the lines it completed (`null` for a rejected line). */
  push(chunk: Uint8Array): (string | null)[] {
    const out: (string | null)[] = [];
    let start = 0;
    const first = chunk.indexOf(NEWLINE);
    if (first === -1) {
      this.#keep(chunk, 0);
      return out;
    }
    // The line that began in an earlier chunk ends here.
    if (this.#rest !== undefined || this.#discarding) {
      if (this.#discarding) {
        this.#discarding = false;
        this.#rest = undefined;
        this.#reject(out, "line_too_long");
      } else {
        const head = concat(this.#rest!, chunk.subarray(0, first));
        this.#rest = undefined;
        this.#line(out, head);
      }
      start = first + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) this.#region(out, chunk.subarray(start, last));
    this.#keep(chunk, last + 1);
    return out;
  }

  /** Ends the input; returns the last line if it had no newline (`null` when rejected). */
  end(): (string | null)[] {
    const out: (string | null)[] = [];
    if (this.#discarding) {
      this.#discarding = false;
      this.#reject(out, "line_too_long");
    } else if (this.#rest !== undefined) {
      const rest = this.#rest;
      this.#rest = undefined;
      this.#line(out, rest);
    }
    return out;
  }

  /** Keeps the unterminated tail `chunk[from..]` for the next chunk. */
  #keep(chunk: Uint8Array, from: number): void {
    if (from >= chunk.length) return;
    if (this.#discarding) return;
    const size = (this.#rest?.length ?? 0) + chunk.length - from;
    // One byte of slack for the `\r` of a CRLF line of exactly the maximum.
    if (size > this.#maxLineBytes + 1) {
      this.#rest = undefined;
      this.#discarding = true;
      return;
    }
    // Copy: the caller may reuse its buffer.
    this.#rest = this.#rest === undefined
      ? chunk.slice(from)
      : concat(this.#rest, chunk.subarray(from));
  }

  /** Decodes one line's bytes (without its newline). */
  #line(out: (string | null)[], bytes: Uint8Array): void {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CARRIAGE_RETURN) end--;
    if (end > this.#maxLineBytes) return this.#reject(out, "line_too_long");
    let text: string;
    try {
      text = this.#fatal.decode(bytes.subarray(0, end));
    } catch {
      return this.#reject(out, "invalid_utf8");
    }
    this.lines++;
    out.push(text);
  }

  /** Decodes a run of complete lines (`region` holds no final newline) in one call. */
  #region(out: (string | null)[], region: Uint8Array): void {
    let text: string;
    try {
      text = this.#fatal.decode(region);
    } catch {
      // Rare path: find the lines that are not UTF-8.
      let from = 0;
      for (;;) {
        const nl = region.indexOf(NEWLINE, from);
        this.#line(out, region.subarray(from, nl === -1 ? region.length : nl));
        if (nl === -1) return;
        from = nl + 1;
      }
    }
    const parts = text.split("\n");
    const max = this.#maxLineBytes;
    // A line of n UTF-16 units holds at most 3n UTF-8 bytes; measure exactly only beyond that.
    const cheap = Math.floor(max / 3);
    for (let i = 0; i < parts.length; i++) {
      let line = parts[i]!;
      if (line.length > 0 && line.charCodeAt(line.length - 1) === CARRIAGE_RETURN) {
        line = line.slice(0, -1);
      }
      if (line.length > cheap && utf8Length(line) > max) {
        this.#reject(out, "line_too_long");
        continue;
      }
      this.lines++;
      out.push(line);
    }
  }

  #reject(out: (string | null)[], reason: LineRejection): void {
    this.lines++;
    out.push(null);
    this.#onReject(reason, this.lines);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

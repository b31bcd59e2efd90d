/**
 * Reads blocks of NDJSON lines into records, taking the lines already in `JSON.stringify`'s
 * form without `JSON.parse`.
 *
 * @module
 */

import { JsonFieldsRecord, type TextBlock } from "../core/json_fields_record.ts";
import type { LogRecord } from "../core/record.ts";
import { messageOf } from "../core/message_of.ts";
import { ParseError } from "./parse_error.ts";
import { parseJsonLine } from "./record_from_object.ts";
import { JSON_LINE_SCANNER_WASM } from "./json_line_scanner_wasm.ts";

/** Options of a {@linkcode JsonBlockReader}. */
export interface JsonBlockReaderOptions {
  /** Longer lines are rejected with `tooLarge` as their reason. */
  maxLineBytes: number;
  /** The reason a line over `maxLineBytes` is rejected with. */
  tooLarge: string;
  /** Also end lines at a NUL byte. */
  nulDelimiter?: boolean;
}

/** Hears of a line that did not become a record: its index in the block, reason, message. */
export type JsonBlockReject = (line: number, reason: string, message: string, text: string) => void;

// Slots per line of the scanner's output (src/parse/json_line_scanner.c).
const STRIDE = 22;
const START = 0;
const END = 1;
const STATUS = 2;
const LEVEL = 3;
const LOGGER_START = 4;
const LOGGER_END = 5;
const MESSAGE_START = 6;
const MESSAGE_END = 7;
const FLAGS = 8;
const SEGMENTS = 9;
const SEGMENT0 = 10;
const UNITS_START = 20;
const UNITS_END = 21;
const FAST = 1;
const F_TIME = 1;
const F_LOGGER = 4;
const F_MESSAGE = 8;
const F_LOGGER_ESCAPED = 16;
const F_MESSAGE_ESCAPED = 32;
const F_LOGGER_SAME = 64;
const F_MESSAGE_SAME = 128;
/** The scanner reads up to 15 bytes past a line's end 16 at a time. */
const SLACK = 16;
/**
 * The most bytes handed to the scanner at once: larger blocks go in windows cut at a line end,
 * so the module's memory (which never shrinks) stays near this size.
 */
const WINDOW = 1 << 20;
const PAGE = 65_536;
const CR = 13;

interface Scanner {
  memory: WebAssembly.Memory;
  input: number;
  scan: (from: number, length: number, nul: number, units: number) => number;
  consumed: () => number;
  consumedUnits: () => number;
  results: number;
  times: number;
}

let scanner: Scanner | undefined;

function instance(): Scanner {
  if (scanner !== undefined) return scanner;
  const bytes = Uint8Array.from(atob(JSON_LINE_SCANNER_WASM), (c) => c.charCodeAt(0));
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as Record<
    string,
    unknown
  >;
  const call = (name: string) => exports[name] as (...args: number[]) => number;
  scanner = {
    memory: exports.memory as WebAssembly.Memory,
    input: call("input")(),
    scan: call("scan"),
    consumed: call("consumed"),
    consumedUnits: call("consumedUnits"),
    results: call("results")(),
    times: call("times")(),
  };
  return scanner;
}

/**
 * Reads the lines of a block of UTF-8 text into records, as `parseJsonLine` reads each one,
 * but a line that is a JSON object already in `JSON.stringify`'s form (no whitespace, numbers
 * as JavaScript prints them, at most one key of each record group, no `error`, `fields` or
 * trace keys, no repeated or array-index keys; see src/parse/json_line_scanner.c) is read by
 * a WebAssembly scanner instead of `JSON.parse`: it becomes a {@linkcode JsonFieldsRecord}
 * whose fields stay their JSON text, and whose strings are cuts of the block's text. Every
 * other line goes to `parseJsonLine`, so a line the scanner leaves is read exactly as before.
 * Lines end at LF (and NUL with `nulDelimiter`), a trailing CR removed; empty lines are
 * skipped.
 *
 * @example A block of two lines: one the scanner takes, one it leaves
 * ```ts
 * import { JsonBlockReader } from "./json_block_reader.ts";
 * import type { LogRecord } from "../core/record.ts";
 * import assert from "node:assert/strict";
 * const reader = new JsonBlockReader({ maxLineBytes: 1024, tooLarge: "frame_too_large" });
 * const text = '{"level":"warn","message":"disk","free":3}\n{ "message": "spaced" }';
 * const records: LogRecord[] = [];
 * assert.ok(reader.read(new TextEncoder().encode(text), text, 0, records, () => {}));
 * assert.deepEqual(records.map((r) => [r.level, r.message, { ...r.fields }]), [
 *   [30, "disk", { free: 3 }],
 *   [20, "spaced", {}],
 * ]);
 * ```
 */
export class JsonBlockReader {
  readonly #max: number;
  readonly #tooLarge: string;
  readonly #nul: number;
  /**
   * The help of `sluice_records_scanned_total`, which a source counts `taken` in: operators
   * see how much of their input skips `JSON.parse`.
   */
  static readonly SCANNED_HELP =
    "Records a JSON source read with the WebAssembly line scanner instead of JSON.parse (lines in JSON.stringify's form).";
  /** How many records of the last {@linkcode JsonBlockReader.read} the scanner took. */
  taken = 0;

  /** A reader; the WebAssembly module is compiled once per process, on first use. */
  constructor(options: JsonBlockReaderOptions) {
    this.#max = options.maxLineBytes;
    this.#tooLarge = options.tooLarge;
    this.#nul = options.nulDelimiter ? 1 : 0;
  }

  /**
   * Reads the complete lines of `bytes` into `out`, `text` being their text as a UTF-8
   * decoder that keeps a BOM makes it (a replacing one is about 10x faster than a fatal one);
   * returns `false` and reads nothing when `text` holds U+FFFD (the bytes may not be UTF-8)
   * or a BOM (which line readers remove), and, unless every byte is ASCII, when `keepText` is
   * false or the block is longer than the scanner's window. A line that does not become a
   * record goes to
   * `reject` (`line` counts every line of the block from 0, empty ones too). `admit`, when
   * given, is asked before each record is kept (a rate limit). With `keepText` false every
   * line is parsed in full (for a source whose records reach something that reads their
   * fields).
   */
  read(
    bytes: Uint8Array,
    text: string,
    now: number,
    out: LogRecord[],
    reject: JsonBlockReject,
    admit?: () => boolean,
    keepText = true,
  ): boolean {
    this.taken = 0;
    // A replacing decoder that replaced nothing decoded valid UTF-8: the text is the bytes'
    // (a real U+FFFD is declined with the replacements). A BOM is declined in the bytes too,
    // in case the decoder removed it.
    if (text.indexOf("\uFFFD") !== -1 || text.indexOf("\uFEFF") !== -1) return false;
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return false;
    // Text offsets are byte offsets in an ASCII block; in another, the scanner counts them,
    // which one window at a time it does from the block's start only.
    const ascii = text.length === bytes.length;
    if (!ascii && (!keepText || bytes.length > WINDOW)) return false;
    if (!keepText) {
      let line = 0;
      let nul = this.#nul === 1 ? text.indexOf("\0") : -1;
      for (let start = 0; start <= text.length; line++) {
        let stop = text.indexOf("\n", start);
        if (nul !== -1 && nul < start) nul = text.indexOf("\0", start);
        if (nul !== -1 && (stop === -1 || nul < stop)) stop = nul;
        if (stop === -1) stop = text.length;
        const end = stop > start && text.charCodeAt(stop - 1) === CR ? stop - 1 : stop;
        this.#slow(text, start, end, end - start, line, now, out, reject, admit);
        start = stop + 1;
      }
      return true;
    }
    // What the text costs to keep: a string with any character above U+00FF takes two bytes
    // per character (ASCII and Latin-1 ones take one), so a block that is not ASCII may.
    const block: TextBlock = { length: ascii ? text.length : 2 * text.length, ascii };
    let line = 0;
    let at = 0;
    while (at < bytes.length) {
      let size = bytes.length - at;
      if (size > WINDOW) {
        const stop = this.#lastStop(bytes, at, at + WINDOW);
        if (stop === -1) {
          // One line longer than the window: too long for the scanner, not for the reader.
          const end = this.#nextStop(bytes, at + WINDOW);
          const cut = end > at && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
          this.#slow(text, at, cut, cut - at, line++, now, out, reject, admit);
          at = end + 1;
          continue;
        }
        size = stop - at;
      }
      copyIn(bytes, at, size);
      line = this.#window(text, at, size, line, now, out, reject, admit, block);
      // The scanner counts no empty line after a window's last line end (it ends the window):
      // the window's cut ends that line.
      if (size === 0 || this.#isStop(bytes[at + size - 1]!)) line++;
      at += size + 1;
    }
    return true;
  }

  /**
   * Scans the `size` bytes from `at` (ending at a line end), already in the scanner's input;
   * returns the next line index.
   */
  #window(
    text: string,
    at: number,
    size: number,
    line: number,
    now: number,
    out: LogRecord[],
    reject: JsonBlockReject,
    admit: (() => boolean) | undefined,
    block: TextBlock,
  ): number {
    const s = instance();
    const memory = s.memory.buffer;
    const max = this.#max;
    let logger = "";
    let message = "";
    let from = 0;
    let units = 0;
    while (from < size) {
      const count = s.scan(from, size, this.#nul, units);
      from = s.consumed();
      units = s.consumedUnits();
      const slots = new Int32Array(memory, s.results, count * STRIDE);
      const times = new Float64Array(memory, s.times, count);
      for (let i = 0; i < count; i++, line++) {
        const o = i * STRIDE;
        // Byte offsets; the text's are the scanner's units (a block that is not ASCII is one
        // window from 0, so `at` is both).
        const bytes = slots[o + END]! - slots[o + START]!;
        if (slots[o + STATUS] !== FAST) {
          if (bytes > 0) {
            const start = at + slots[o + UNITS_START]!;
            const end = at + slots[o + UNITS_END]!;
            this.#slow(text, start, end, bytes, line, now, out, reject, admit);
          }
          continue;
        }
        // The scanner gives a fast line's parts as text offsets from the line's start in bytes.
        const base = at + slots[o + UNITS_START]! - slots[o + START]!;
        // The scanner marks a logger or message equal to the last fast line's, so these two
        // are kept up to date for every fast line, taken or not.
        const flags = slots[o + FLAGS]!;
        if ((flags & (F_LOGGER | F_LOGGER_SAME)) === F_LOGGER) {
          logger = cut(
            text,
            base,
            slots[o + LOGGER_START]!,
            slots[o + LOGGER_END]!,
            flags & F_LOGGER_ESCAPED,
          );
        }
        if ((flags & (F_MESSAGE | F_MESSAGE_SAME)) === F_MESSAGE) {
          message = cut(
            text,
            base,
            slots[o + MESSAGE_START]!,
            slots[o + MESSAGE_END]!,
            flags & F_MESSAGE_ESCAPED,
          );
        }
        if (bytes > max) {
          reject(line, this.#tooLarge, "Line too long", "");
          continue;
        }
        if (admit !== undefined && !admit()) continue;
        const segments = slots[o + SEGMENTS]!;
        let json = "";
        if (segments > 0) {
          json = text.slice(base + slots[o + SEGMENT0]!, base + slots[o + SEGMENT0 + 1]!);
          for (let k = 1; k < segments; k++) {
            const segment = o + SEGMENT0 + 2 * k;
            json += "," + text.slice(base + slots[segment]!, base + slots[segment + 1]!);
          }
        }
        this.taken++;
        out.push(
          new JsonFieldsRecord(
            flags & F_TIME ? times[i]! : now,
            slots[o + LEVEL]!,
            flags & F_LOGGER ? logger : "",
            flags & F_MESSAGE ? message : "",
            json,
            block,
          ),
        );
      }
    }
    return line;
  }

  #slow(
    text: string,
    start: number,
    end: number,
    bytes: number,
    line: number,
    now: number,
    out: LogRecord[],
    reject: JsonBlockReject,
    admit: (() => boolean) | undefined,
  ): void {
    // [start, end) of the text, `bytes` long in UTF-8, has no trailing CR: the scanner, or the
    // caller, removed it (one CR only: "x\r\r" is the line "x\r", as a line read alone is).
    if (bytes > this.#max) {
      reject(line, this.#tooLarge, "Line too long", "");
      return;
    }
    if (end <= start) return;
    if (admit !== undefined && !admit()) return;
    const cutText = text.slice(start, end);
    try {
      out.push(parseJsonLine(cutText, now));
    } catch (error) {
      if (error instanceof ParseError) reject(line, error.reason, error.message, cutText);
      else reject(line, "parse_error", messageOf(error), cutText);
    }
  }

  /** Whether `b` ends a line: a newline, or a NUL where NULs end lines. */
  #isStop(b: number): boolean {
    return b === 10 || (this.#nul === 1 && b === 0);
  }

  /** The index of the last line end in `bytes` in [from, to), or -1. */
  #lastStop(bytes: Uint8Array, from: number, to: number): number {
    for (let i = to - 1; i >= from; i--) {
      if (this.#isStop(bytes[i]!)) return i;
    }
    return -1;
  }

  /** The index of the first line end in `bytes` from `from`, or its length. */
  #nextStop(bytes: Uint8Array, from: number): number {
    for (let i = from; i < bytes.length; i++) {
      if (this.#isStop(bytes[i]!)) return i;
    }
    return bytes.length;
  }
}

/** Copies `size` bytes of `bytes` from `at` into the scanner's input, growing its memory. */
function copyIn(bytes: Uint8Array, at: number, size: number): void {
  const s = instance();
  const need = s.input + size + SLACK;
  if (need > s.memory.buffer.byteLength) {
    s.memory.grow(Math.ceil((need - s.memory.buffer.byteLength) / PAGE));
  }
  const input = new Uint8Array(s.memory.buffer, s.input, size + SLACK);
  input.set(bytes.subarray(at, at + size));
  input.fill(0, size);
}

/** A string's value from its content [start, end) in the window at `base` of `text`. */
function cut(text: string, base: number, start: number, end: number, escaped: number): string {
  return escaped
    ? JSON.parse(text.slice(base + start - 1, base + end + 1)) as string
    : text.slice(base + start, base + end);
}

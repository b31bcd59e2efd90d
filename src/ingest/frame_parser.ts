/**
 * Turns one network frame (a line, an octet-counted message, a datagram) into a record.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { parseJsonLine } from "../parse/record_from_object.ts";
import { ParseError } from "../parse/parse_error.ts";
import { parseSyslogLine, recordFromSyslog } from "../parse/syslog_line.ts";

/** How a frame's text is read. */
export type FrameFormat = "json" | "text" | "syslog";

/** Options of {@linkcode createFrameParser}. */
export interface FrameParserOptions {
  /** How the text is read: a JSON object, plain text (the message), or a syslog message. */
  format: FrameFormat;
  /** Invalid UTF-8 is rejected (`invalid_utf8`) or decoded with U+FFFD replacements. */
  invalidUtf8: "reject" | "replace";
  /** For `text`: the logger name records get. */
  logger?: string;
  /** For `syslog`: the SD-ID whose parameters become fields. */
  sdId?: string;
  /** For `syslog`: add header metadata fields. */
  metadata?: boolean;
}

/**
 * Parses one frame; throws a {@linkcode ParseError} whose `reason` the source counts. A
 * parser of text frames also offers `text` (the same parse from an already decoded line) and
 * the `decoder` it decodes with, so that a stream's lines can be decoded a chunk at a time.
 */
export interface FrameParser {
  /** Parses a frame's bytes. */
  (bytes: Uint8Array, now: number): LogRecord;
  /** Parses a frame already decoded with `decoder`. */
  text?: (line: string, now: number) => LogRecord;
  /** The decoder `text` expects its input from. */
  decoder?: TextDecoder;
  /** Set for `json`: its text path is `parseJsonLine`, which a `JsonBlockReader` matches. */
  json?: boolean;
}

/**
 * Compiles a frame parser. Text is decoded as UTF-8 (rejecting invalid input by default), a
 * trailing NUL or line end is removed, and the text is read per `format`: `json` as an
 * ingested JSON object (`invalid_json`, `not_an_object`), `text` as the message of an INFO
 * record, `syslog` with the tolerant RFC 5424/3164 parser (`invalid_syslog`).
 *
 * @example Parse a JSON frame and reject invalid UTF-8
 * ```ts
 * import { createFrameParser } from "./frame_parser.ts";
 * import assert from "node:assert/strict";
 * const parse = createFrameParser({ format: "json", invalidUtf8: "reject" });
 * assert.ok(parse(new TextEncoder().encode('{"msg":"hi"}'), 0).message === "hi");
 * assert.throws(() => parse(new Uint8Array([0xff, 0xfe]), 0), { reason: "invalid_utf8" });
 * ```
 */
export function createFrameParser(options: FrameParserOptions): FrameParser {
  const decoder = new TextDecoder("utf-8", { fatal: options.invalidUtf8 === "reject" });
  const decode = (bytes: Uint8Array): string => {
    let end = bytes.length;
    while (end > 0) {
      const c = bytes[end - 1];
      if (c !== 0 && c !== 10 && c !== 13) break;
      end--;
    }
    try {
      return decoder.decode(end === bytes.length ? bytes : bytes.subarray(0, end));
    } catch {
      throw new ParseError("Invalid UTF-8 in frame", "invalid_utf8");
    }
  };
  let text: (line: string, now: number) => LogRecord;
  switch (options.format) {
    case "json":
      text = parseJsonLine;
      break;
    case "text": {
      const logger = options.logger ?? "";
      text = (line, now) => ({ time: now, level: 20, logger, message: line, fields: {} });
      break;
    }
    case "syslog": {
      const recordOptions = {
        sdId: options.sdId ?? "fields@32473",
        metadata: options.metadata ?? true,
        json: true,
        now: 0,
      };
      text = (line, now) => {
        const message = parseSyslogLine(line, now);
        recordOptions.now = now;
        return recordFromSyslog(message, recordOptions);
      };
    }
  }
  const parse: FrameParser = (bytes, now) => text(decode(bytes), now);
  parse.text = text;
  parse.decoder = decoder;
  if (options.format === "json") parse.json = true;
  return parse;
}

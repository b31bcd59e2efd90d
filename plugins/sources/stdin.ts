/**
 * The `stdin` source: one record per line of standard input.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { LineSplitter } from "../../src/parse/line_splitter.ts";
import { parseJsonLine } from "../../src/parse/record_from_object.ts";
import { ParseError } from "../../src/parse/parse_error.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import type { OptionsOf, Source, SourceContext } from "../../src/plugin/types.ts";
import { s } from "../../src/schema/schema.ts";
import { messageOf } from "../../src/core/message_of.ts";

const options = s.object({
  parser: s.enum(["auto", "json", "text"] as const).default("auto").describe(
    "auto: a line holding a JSON object becomes a structured record, any other line a text " +
      "record; json: every line must be a JSON object (others are rejected and counted); " +
      "text: every line is a message.",
  ),
  logger: s.string().default("stdin").describe(
    "Logger name of records that name none (text lines, JSON lines without a logger).",
  ),
  level: s.level().default(20).describe("Level of records made from text lines."),
  max_line_bytes: s.bytes().default(1024 * 1024).describe(
    "Longest accepted line; longer lines are rejected (line_too_long) and counted.",
  ),
});

/** The parsed options of the `stdin` source. */
export type StdinOptions = OptionsOf<typeof options.shape>;

/** A running line source; `ended` resolves once its input is exhausted (or it is disposed). */
export interface StdinSource extends Source {
  /** Resolves when the input reached its end and every line was emitted. */
  readonly ended: Promise<void>;
}

/**
 * Reads newline-delimited records from a byte stream: the engine of the `stdin` source,
 * with the stream injectable (tests pass their own; the plugin passes `Deno.stdin.readable`).
 * Lines are split in whole chunks, parsed into one batch per chunk, and each batch is
 * handed to `context.emit`, whose promise is awaited before the next read (back-pressure).
 * Empty lines are skipped. Invalid UTF-8 and overlong lines, and in `json` mode lines that
 * are not a JSON object, are rejected with `context.reject(reason)`; the lines around them
 * still flow.
 *
 * @example Read two lines from an in-memory stream
 * ```ts
 * import { createStdinSource } from "./stdin.ts";
 * import type { LogRecord } from "../../src/core/record.ts";
 * import type { SourceContext } from "../../src/plugin/types.ts";
 * import assert from "node:assert/strict";
 * const got: LogRecord[] = [];
 * const context = {
 *   id: "in",
 *   emit: (records: readonly LogRecord[]) => (got.push(...records), Promise.resolve()),
 *   reject: () => {},
 *   log: { warnOnce: () => {}, info: () => {} },
 *   counter: () => ({ inc: () => {}, value: 0 }),
 *   signal: new AbortController().signal,
 * } as unknown as SourceContext;
 * const input = ReadableStream.from([new TextEncoder().encode('{"msg":"a"}\nplain\n')]);
 * const source = createStdinSource(
 *   { parser: "auto", logger: "stdin", level: 20, max_line_bytes: 1024 },
 *   context,
 *   () => input,
 * );
 * await source.start();
 * await source.ended;
 * await source[Symbol.asyncDispose]();
 * assert.ok(got[0]?.message === "a" && got[1]?.message === "plain");
 * ```
 */
export function createStdinSource(
  options: StdinOptions,
  context: SourceContext,
  open: () => ReadableStream<Uint8Array>,
): StdinSource {
  const json = options.parser === "json";
  const auto = options.parser === "auto";
  const textLogger = options.logger;
  const textLevel = options.level;
  const errors = context.counter("component_errors_total", "Failed operations of a component.", {
    kind: "source",
  });
  let stopped = false;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let loop: Promise<void> | undefined;
  let releaseStop!: () => void;
  const stop = new Promise<void>((resolve) => releaseStop = resolve);
  let finish!: () => void;
  const ended = new Promise<void>((resolve) => finish = resolve);

  const splitter = new LineSplitter(options.max_line_bytes, (reason, line) => {
    context.reject(reason);
    context.log.warnOnce(
      `${context.id}:${reason}`,
      `Source "${context.id}" rejected line ${line}: ${
        reason === "invalid_utf8"
          ? "not valid UTF-8"
          : `longer than ${options.max_line_bytes} bytes`
      }`,
    );
  });

  const toRecords = (lines: (string | null)[], firstLine: number): LogRecord[] => {
    const now = Date.now();
    const records: LogRecord[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line === null || line === undefined || line.length === 0) continue;
      if (json || (auto && line.charCodeAt(firstNonSpace(line)) === 123 /* { */)) {
        try {
          const record = parseJsonLine(line, now);
          // Made here and not yet shared: naming its logger is not a mutation of a passed record.
          if (record.logger === "") record.logger = textLogger;
          records.push(record);
          continue;
        } catch (error) {
          if (json) {
            if (line.trim() === "") continue;
            const reason = error instanceof ParseError ? error.reason : "invalid_json";
            context.reject(reason);
            context.log.warnOnce(
              `${context.id}:${reason}`,
              `Source "${context.id}" rejected line ${firstLine + i}: ${messageOf(error)}`,
            );
            continue;
          }
          // auto: a line that only looks like JSON is kept as text.
        }
      }
      records.push({ time: now, level: textLevel, logger: textLogger, message: line, fields: {} });
    }
    return records;
  };

  const send = async (lines: (string | null)[], firstLine: number): Promise<void> => {
    const records = toRecords(lines, firstLine);
    if (records.length > 0) await Promise.race([context.emit(records), stop]);
  };

  const run = async (): Promise<void> => {
    try {
      reader = open().getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || stopped) break;
        const lines = splitter.push(value);
        if (lines.length > 0) await send(lines, splitter.lines - lines.length + 1);
        if (stopped) break;
      }
      if (!stopped) {
        const last = splitter.end();
        await send(last, splitter.lines - last.length + 1);
      }
    } catch (error) {
      if (!stopped) {
        errors.inc();
        context.log.warnOnce(`${context.id}:read`, `Cannot read source "${context.id}"`, error);
      }
    } finally {
      try {
        reader?.releaseLock();
      } catch {
        // A read still pending after cancel: nothing more to release.
      }
      finish();
    }
  };

  return {
    ended,
    start() {
      loop ??= run();
    },
    async [Symbol.asyncDispose]() {
      if (stopped) return;
      stopped = true;
      releaseStop();
      try {
        await reader?.cancel();
      } catch {
        // Already closed or errored.
      }
      await loop;
      finish();
    },
  };
}

/**
 * Reads standard input, one record per line: a line holding a JSON object becomes a
 * structured record (time, level, logger, message and fields recognised as for the `http`
 * source), any other line a record whose message is the line (`parser: auto`, the default).
 * `parser: json` rejects and counts lines that are not JSON objects
 * (`sluice_records_rejected_total{reason="invalid_json"}`); `parser: text` never parses.
 * Reading waits while the sinks' queues are full.
 *
 * @example YAML
 * ```ts
 * import { parseConfigText } from "../../src/config/load.ts";
 * import assert from "node:assert/strict";
 * const yaml = `
 * sources:
 *   piped: { type: stdin }                  # or: { type: stdin, parser: json, max_line_bytes: 256KiB }
 * sinks:
 *   file: { type: file, path: logs/piped.log, format: json }
 * `;
 * const { config } = await parseConfigText(yaml, "stdin.yaml");
 * assert.ok(config.sources.piped?.options.parser === "auto");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "stdin",
  description:
    "One record per line of standard input; JSON object lines become structured records.",
  options,
  permissions: () => ({}),
  create: (parsed, context) => createStdinSource(parsed, context, () => Deno.stdin.readable),
});

function firstNonSpace(line: string): number {
  let i = 0;
  while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
  return i;
}

/**
 * The `file` source: tails files matching globs, across rotation, with checkpoints.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { CheckpointStore } from "./checkpoints.ts";
import { FileTailer, type TailBatch } from "./file_tailer.ts";
import { compileGlob } from "./glob.ts";
import { parseLogfmtLine } from "./logfmt_line.ts";
import { compilePythonLine, PYTHON_DEFAULT_FORMAT } from "./python_line.ts";
import { parseJsonLine } from "../../../src/parse/record_from_object.ts";
import { ParseError } from "../../../src/parse/parse_error.ts";
import { compileRegexLine, type LineParser } from "./regex_line.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import type { Counter } from "../../../src/plugin/types.ts";
import { s } from "../../../src/schema/schema.ts";
import { messageOf } from "../../../src/core/message_of.ts";

const regex = (flags = "") =>
  s.custom(
    (v) => {
      if (typeof v !== "string" || v === "") return undefined;
      try {
        new RegExp(v, flags);
        return v;
      } catch {
        return undefined;
      }
    },
    "a regular expression",
    { type: "string", minLength: 1 },
  );

const textLine: LineParser = (line, now) => ({
  time: now,
  level: 20,
  logger: "",
  message: line,
  fields: {},
});

function unparsed(line: string, now: number, error: unknown): LogRecord {
  return {
    time: now,
    level: 20,
    logger: "",
    message: line,
    fields: { parse_error: messageOf(error) },
  };
}

function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    promise.then(done, done);
  });
}

/**
 * Follows the files matching `include` like `tail -F`, across rename-and-create rotation
 * (Python's RotatingFileHandler, logrotate `create`) and copytruncate (include the copies,
 * e.g. `app.log*`, so that lines written just before the truncation are read from the
 * copy). Files are recognised by device, inode and a hash of their first KiB, never by
 * name alone; offsets are checkpointed in `data_dir` (about once a second and at
 * shutdown), so a restart resumes after the last line handed to the pipeline. New files
 * matching `include` are picked up while running (within `scan_interval`); deleted or
 * rotated-away files are read to their end and released after `rotate_wait`. Reading
 * pauses while sinks are full. A line that does not parse becomes a record with the raw
 * text as message and a `parse_error` field, counted in `sluice_records_rejected_total`;
 * a line longer than `max_line_bytes` is cut, marked `truncated: true` and counted in
 * `sluice_lines_truncated_total`. `read_from: end` applies to files present at the first
 * start that have no checkpoint; files appearing later are read from their beginning.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   services:
 *     type: file
 *     include: [logs/service*.log]
 *     read_from: beginning
 *     parser: python
 *     multiline: { start: '^\\d{4}-\\d{2}-\\d{2}' }
 * sinks:
 *   out: { type: console }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.sources.services?.type, "file");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "file",
  description: "Tails files matching globs across rotation, with checkpoints and back-pressure.",
  options: s.object({
    include: s.array(s.string({ minLength: 1 }), { minItems: 1, single: true }).describe(
      "Globs of the files to follow (*, ?, [ab], {a,b}, **); relative to the config file.",
    ),
    exclude: s.array(s.string({ minLength: 1 }), { single: true }).default([]).describe(
      "Globs to skip; one without / matches the file name, e.g. '*.gz'.",
    ),
    read_from: s.enum(["beginning", "end"] as const).default("beginning").describe(
      "Where to start in files present at the first start without a checkpoint.",
    ),
    parser: s.enum(["text", "json", "logfmt", "regex", "python"] as const).default("text")
      .describe("How a line becomes a record."),
    pattern: s.string({ minLength: 1 }).optional().describe(
      "parser regex: a regular expression with named groups; parser python: the format string.",
    ),
    multiline: s.object({
      start: regex().describe("A line matching this starts a record; others continue it."),
      timeout: s.duration().default(1000).describe("A pending record is complete after this."),
      max_lines: s.integer({ min: 1 }).default(500).describe("Most lines in one record."),
    }).optional().describe("Join continuation lines such as stack traces."),
    max_line_bytes: s.bytes().default(1024 * 1024).describe("Longer lines are cut and counted."),
    poll_interval: s.duration().default(250).describe("Wait for new data this long when idle."),
    scan_interval: s.duration().default(1000).describe("Look for new files this often."),
    rotate_wait: s.duration().default(2000).describe(
      "Keep a rotated-away or deleted file open this long after its last data.",
    ),
    file_field: s.string().default("file").describe(
      'The field that holds the file path; "" for none.',
    ),
  }),
  permissions: (options, context) => ({
    // The walk starts at each glob's directory; checkpoints live in data_dir.
    read: [
      ...new Set(options.include.map((p) => compileGlob(p, context.baseDir).base)),
      context.dataDir,
    ],
    write: [context.dataDir],
  }),
  create(options, context) {
    let parse: LineParser;
    try {
      switch (options.parser) {
        case "json":
          parse = parseJsonLine;
          break;
        case "logfmt":
          parse = parseLogfmtLine;
          break;
        case "regex":
          if (options.pattern === undefined) {
            throw new Error('parser "regex" needs a pattern with named groups');
          }
          parse = compileRegexLine(options.pattern);
          break;
        case "python":
          parse = compilePythonLine(options.pattern ?? PYTHON_DEFAULT_FORMAT);
          break;
        default:
          parse = textLine;
      }
    } catch (error) {
      throw new PluginError(
        `Cannot create source "${context.id}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    const fileField = options.file_field;
    const signal = context.signal;
    const truncatedLines = context.counter("lines_truncated_total", "Lines cut to max_line_bytes.");
    const opened = context.counter("files_opened_total", "Files a tail source opened.");
    const released = context.counter("files_released_total", "Files a tail source let go of.");
    const truncations = context.counter(
      "file_truncations_total",
      "Files found truncated or rewritten (copytruncate), read again from the start.",
    );
    const errors = new Map<string, Counter>();
    const deliver = (batch: TailBatch): Promise<void> => {
      const now = Date.now();
      const lines = batch.lines;
      const records: LogRecord[] = new Array(lines.length);
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        let record: LogRecord;
        try {
          record = parse(line, now);
        } catch (error) {
          record = unparsed(line, now, error);
          context.reject(error instanceof ParseError ? error.reason : "parse_failed");
        }
        if (fileField) record.fields[fileField] = batch.path;
        records[i] = record;
      }
      for (const i of batch.truncated) records[i]!.fields.truncated = true;
      return untilAborted(context.emit(records), signal);
    };
    const tailer = new FileTailer({
      include: options.include.map((p) => compileGlob(p, context.baseDir)),
      exclude: options.exclude.map((p) => compileGlob(p, context.baseDir)),
      readFrom: options.read_from,
      maxLineBytes: options.max_line_bytes,
      ...(options.multiline
        ? {
          multiline: {
            start: new RegExp(options.multiline.start),
            timeout: options.multiline.timeout,
            maxLines: options.multiline.max_lines,
          },
        }
        : {}),
      pollInterval: options.poll_interval,
      scanInterval: options.scan_interval,
      rotateWait: options.rotate_wait,
      checkpoints: new CheckpointStore(
        `${context.dataDir}/file_source/${encodeURIComponent(context.id)}.json`,
      ),
      deliver,
      events: {
        opened: () => opened.inc(),
        released: () => released.inc(),
        truncated: () => truncations.inc(),
        lineTruncated: () => truncatedLines.inc(),
        error(operation, message, error) {
          let counter = errors.get(operation);
          if (!counter) {
            counter = context.counter("file_errors_total", "Failed file operations.", {
              operation,
            });
            errors.set(operation, counter);
          }
          counter.inc();
          context.log.warnOnce(`file:${context.id}:${operation}`, message, error);
        },
      },
    });
    return {
      start() {
        tailer.start();
      },
      async [Symbol.asyncDispose]() {
        await tailer.stop();
      },
    };
  },
});

/**
 * The `rotating_file` sink: a file that rotates by size and/or time with Python's names,
 * retention by count and age, and gzip compression of rotated files.
 *
 * @module
 */

import { JsonFieldsRecord } from "../../../src/core/json_fields_record.ts";
import { dirname, resolve } from "node:path";
import type { LogRecord } from "../../../src/core/record.ts";
import { encodeText, formatBatch } from "../../../src/io/encode_batch.ts";
import { type Backup, BackupSet } from "./retention.ts";
import { BackupJournal } from "./backup_journal.ts";
import { ForeignEntries } from "./foreign_entries.ts";
import { Upkeep } from "./upkeep.ts";
import { WorkDir } from "./work_dir.ts";
import { countLines, countNewlines, joinLines } from "./lines.ts";
import { parseAtTime, parseWhen, RotationSchedule } from "./rotation_schedule.ts";
import { WatchedFile } from "../../../src/io/watched_file.ts";
import { utf8Length } from "../../../src/core/utf8_length.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import { formatErrorReporter } from "../../../src/plugin/format_error_reporter.ts";
import type { Counter, Formatter, PluginContext, Sink } from "../../../src/plugin/types.ts";
import { type FormatterSpec, s } from "../../../src/schema/schema.ts";
import { messageOf } from "../../../src/core/message_of.ts";

/** The parsed options of a `rotating_file` sink. */
export interface RotatingFileOptions {
  /** The live file. */
  path: string;
  /** Its formatter. */
  format: FormatterSpec;
  /** Rotate before a batch would make the file larger than this (bytes); 0 disables. */
  max_bytes: number;
  /** Time rotation (`S`, `M`, `H`, `D`, `MIDNIGHT`, `W0`…`W6`), as Python's `when`. */
  when?: string;
  /** Units between time rotations. */
  interval: number;
  /** Time of day for `MIDNIGHT`/`W*` rotation, `HH:MM[:SS]`. */
  at_time?: string;
  /** Use UTC for time rotation and names. */
  utc: boolean;
  /** Rotated files kept (Python's `backupCount`); 0 keeps none. */
  backups: number;
  /** Also delete rotated files last written longer ago than this (ms). */
  max_age?: number;
  /** Compress rotated files. */
  compress: "none" | "gzip";
  /** fsync on flush and shutdown. */
  fsync: boolean;
}

/** Knobs tests use: a controlled clock and zone, and the check interval. */
export interface RotatingFileInternals {
  /** The clock (epoch ms); `Date.now` by default. */
  now?: () => number;
  /** An IANA zone standing in for local time. */
  timeZone?: string;
  /** Least time between retention and compression upkeep (ms, default 1000). */
  checkInterval?: number;
}

const encoder = new TextEncoder();
const RETRY_ROTATION_MS = 1000;

/**
 * The live sink. Besides the {@linkcode Sink} contract it offers `reopen()` (what SIGHUP
 * calls) and `settled()` (resolves when queued compressions are done).
 *
 * @example Rotate by size with a controlled formatter
 * ```ts
 * import { RotatingFileSink } from "./mod.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * import { Metrics } from "../../../src/pipeline/metrics.ts";
 * import { createInternalLog } from "../../../src/pipeline/internal_log.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * const metrics = new Metrics();
 * const sink = new RotatingFileSink({
 *   path: `${dir}/app.log`, format: { type: "text", options: {} }, max_bytes: 6, interval: 1,
 *   utc: false, backups: 3, compress: "none", fsync: false,
 * }, {
 *   id: "out", baseDir: dir, dataDir: dir, signal: new AbortController().signal,
 *   log: createInternalLog(metrics), createFormatter: () => (r) => r.message,
 *   counter: (name, help, labels) => metrics.counter(name, help, { component: "out", ...labels }),
 * });
 * sink.writeSync(["one", "two", "three"].map((message) => createRecord({ message })));
 * await sink[Symbol.asyncDispose]();
 * assert.ok(Deno.readTextFileSync(`${dir}/app.log`) === "three\n");
 * assert.ok(Deno.readTextFileSync(`${dir}/app.log.1`) === "two\n");
 * assert.ok(Deno.readTextFileSync(`${dir}/app.log.2`) === "one\n");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class RotatingFileSink implements Sink {
  readonly #id: string;
  readonly #path: string;
  readonly #format: Formatter;
  /** Records may keep their fields as JSON text when the formatter writes that text. */
  readonly [JsonFieldsRecord.TAKES_TEXT]!: boolean;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #fsync: boolean;
  readonly #now: () => number;
  readonly #checkInterval: number;
  readonly #log: PluginContext["log"];
  readonly #schedule: RotationSchedule | undefined;
  readonly #backups: BackupSet;
  readonly #upkeep: Upkeep;
  readonly #file: WatchedFile;
  readonly #counters: {
    rotations: Counter;
    formatError: (record: LogRecord, error: unknown) => void;
    error: (operation: string) => Counter;
    reopens: Counter;
    bytes: Counter;
  };

  readonly #onFormatError = (record: LogRecord, error: unknown): void => {
    this.#batchFormatErrors++;
    this.#counters.formatError(record, error);
  };
  #rolloverAt = Infinity;
  #nextCheck = 0;
  #rotationBlockedUntil = 0;
  /** What a failed batch already delivered, so that its retry skips it. */
  #partial: { first: LogRecord; last: LogRecord; count: number } | undefined;
  #splitDone = 0;
  #batchFormatErrors = 0;

  /** Opens the live file (creating directories) and rediscovers existing backups. */
  constructor(
    options: RotatingFileOptions,
    context: PluginContext,
    internals: RotatingFileInternals = {},
  ) {
    this.#id = context.id;
    this.#path = resolve(context.baseDir, options.path);
    this.#format = context.createFormatter(options.format);
    this[JsonFieldsRecord.TAKES_TEXT] = JsonFieldsRecord.takesText(this.#format);
    this.#maxBytes = options.max_bytes;
    this.#fsync = options.fsync;
    this.#keep = options.backups;
    this.#now = internals.now ?? Date.now;
    this.#checkInterval = internals.checkInterval ?? 1000;
    this.#log = context.log;
    const errors = new Map<string, Counter>();
    this.#counters = {
      rotations: context.counter("rotations_total", "Files a rotating sink rotated."),
      formatError: formatErrorReporter(context),
      reopens: context.counter("file_reopens_total", "Times a sink reopened its file."),
      bytes: context.counter("bytes_written_total", "Bytes a sink wrote."),
      error: (operation) => {
        let counter = errors.get(operation);
        if (!counter) {
          counter = context.counter("file_errors_total", "Failed file operations of a sink.", {
            operation,
          });
          errors.set(operation, counter);
        }
        return counter;
      },
    };
    if (options.when !== undefined) {
      try {
        this.#schedule = new RotationSchedule({
          when: options.when,
          interval: options.interval,
          utc: options.utc,
          ...(options.at_time !== undefined ? { atTime: options.at_time } : {}),
          ...(internals.timeZone !== undefined ? { timeZone: internals.timeZone } : {}),
        });
      } catch (error) {
        throw new PluginError(`Cannot create sink "${this.#id}": ${messageOf(error)}`, {
          cause: error,
        });
      }
    }
    const mode = this.#schedule ? (this.#maxBytes > 0 ? "both" : "time") : "size";
    const foreign = new ForeignEntries(context);
    const work = new WorkDir(this.#path);
    // Its own work directory (made only to rewrite it): the journal may outlive this sink,
    // shared with the next one after a reload.
    const journal = new BackupJournal(this.#path, {
      onError: (error) =>
        this.#failure("record", `Cannot record the backups of sink "${this.#id}"`, error),
    });
    this.#backups = BackupSet.open(this.#path, mode, {
      ...(this.#schedule ? { stampPattern: this.#schedule.suffixPattern } : {}),
      journal,
      onForeign: foreign.skip,
    });
    this.#upkeep = new Upkeep({
      id: this.#id,
      path: this.#path,
      backups: this.#backups,
      work,
      keep: options.backups,
      maxAge: options.max_age,
      compress: options.compress === "gzip",
      counters: {
        deleted: context.counter("files_deleted_total", "Rotated files retention deleted."),
        compressed: context.counter("files_compressed_total", "Rotated files compressed."),
      },
      failure: (operation, message, error) => this.#failure(operation, message, error),
    });
    try {
      Deno.mkdirSync(dirname(this.#path), { recursive: true });
    } catch (error) {
      throw new PluginError(
        `Cannot open sink "${this.#id}": cannot create directory "${dirname(this.#path)}": ${
          messageOf(error)
        }`,
        { cause: error },
      );
    }
    this.#upkeep.claim(options.path);
    // Python bases the first rollover on the existing file's mtime, so a restart after
    // midnight still rotates yesterday's file.
    let base = Math.floor(this.#now() / 1000);
    try {
      const mtime = Deno.statSync(this.#path).mtime;
      if (mtime) base = Math.floor(mtime.getTime() / 1000);
    } catch {
      // No live file yet.
    }
    try {
      this.#file = new WatchedFile(this.#path, { now: this.#now, checkInterval: Infinity });
    } catch (error) {
      work.close();
      this.#backups.close();
      throw new PluginError(
        `Cannot open sink "${this.#id}": cannot open "${this.#path}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    if (this.#schedule) this.#rolloverAt = this.#schedule.computeRollover(base);
    foreign.gather();
    try {
      this.#backups.discover();
    } catch (error) {
      this.#failure("discover", `Cannot list the rotated files of sink "${this.#id}"`, error);
    }
    foreign.report(dirname(this.#path), journal.path);
    this.#upkeep.sweep();
    this.#upkeep.applyRetention(this.#now());
    this.#upkeep.compressBacklog();
    this.#nextCheck = this.#now() + this.#checkInterval;
  }

  /** Writes a batch, rotating between records where size or time requires it. */
  writeSync(records: readonly LogRecord[]): void {
    const now = this.#now();
    this.#checkFile();
    if (now >= this.#nextCheck) this.#maintain(now);
    let first = 0;
    const partial = this.#partial;
    if (partial) {
      this.#partial = undefined;
      if (records[0] === partial.first && records[partial.count - 1] === partial.last) {
        first = partial.count;
      }
    }
    if (this.#schedule && Math.floor(now / 1000) >= this.#rolloverAt) {
      this.#rotate(now, true);
    }
    if (first >= records.length) return;
    const batch = first > 0 ? records.slice(first) : records;
    const file = this.#file;
    this.#batchFormatErrors = 0;
    const joined = formatBatch(batch, this.#format, this.#onFormatError);
    const bytes = typeof joined === "string" ? encodeText(joined, true) : joined;
    if (this.#maxBytes <= 0 || file.size + bytes.length <= this.#maxBytes) {
      file.write(bytes);
      this.#counters.bytes.inc(bytes.length);
      return;
    }
    try {
      // One line per record (no newline inside any, no record skipped): split at newlines.
      // Counted on the text when there is one: about 15 µs for 1,000 lines against 100 µs.
      const lines = typeof joined === "string"
        ? countLines(joined)
        : countNewlines(bytes, bytes.length);
      if (this.#batchFormatErrors === 0 && lines === batch.length) {
        this.#writeLines(bytes, now);
      } else this.#writeSplit(batch, now);
    } catch (error) {
      const done = this.#splitDone;
      if (done > 0) {
        this.#partial = {
          first: records[0]!,
          last: records[first + done - 1]!,
          count: first + done,
        };
      }
      throw error;
    }
  }

  /**
   * Writes an encoded batch of one line per record that crosses `max_bytes`, rotating
   * between lines: each piece ends at the last newline that fits.
   */
  #writeLines(bytes: Uint8Array, now: number): void {
    const file = this.#file;
    this.#splitDone = 0;
    let start = 0;
    try {
      while (start < bytes.length) {
        const room = this.#maxBytes - file.size;
        let end = -1;
        if (bytes.length - start <= room) end = bytes.length;
        else if (room > 0) {
          const nl = bytes.lastIndexOf(10, start + room - 1);
          if (nl >= start) end = nl + 1;
        }
        if (end < 0) {
          if (file.size > 0 && this.#rotate(now, false)) continue;
          // An empty file takes a line longer than max_bytes alone; a failed rotation keeps
          // writing here rather than losing records.
          end = file.size > 0 ? bytes.length : bytes.indexOf(10, start) + 1;
        }
        file.write(bytes.subarray(start, end));
        this.#counters.bytes.inc(end - start);
        start = end;
      }
    } catch (error) {
      this.#splitDone = countNewlines(bytes, start); // records fully written before the failure
      throw error;
    }
  }

  /**
   * Writes a batch that crosses `max_bytes`, rotating between records. Formats again (the
   * first pass already counted formatter errors) to learn where each record ends.
   */
  #writeSplit(batch: readonly LogRecord[], now: number): void {
    const count = batch.length;
    this.#splitDone = 0;
    const lines: (string | Uint8Array | undefined)[] = new Array(count);
    let text = "";
    let binary = false;
    for (let i = 0; i < count; i++) {
      let line: string | Uint8Array;
      try {
        line = this.#format(batch[i]!);
      } catch {
        continue;
      }
      lines[i] = line;
      if (typeof line === "string") text += line + "\n";
      else binary = true;
    }
    const bytes = binary ? joinLines(lines) : encoder.encode(text);
    // ends[i] is the byte offset after record i (a skipped record adds nothing).
    const ends = new Array<number>(count);
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const line = lines[i];
      if (line !== undefined) {
        offset += (typeof line === "string" ? utf8Length(line) : line.length) + 1;
      }
      ends[i] = offset;
    }
    const file = this.#file;
    let start = 0;
    let startByte = 0;
    while (start < count) {
      const room = this.#maxBytes - file.size;
      let end = start;
      while (end < count && ends[end]! - startByte <= room) end++;
      if (end === start) {
        if (file.size > 0 && this.#rotate(now, false)) continue;
        // An empty file takes a record larger than max_bytes alone; a failed rotation
        // keeps writing here rather than losing records.
        end = file.size > 0 ? count : start + 1;
      }
      const stop = ends[end - 1]!;
      file.write(bytes.subarray(startByte, stop));
      this.#counters.bytes.inc(stop - startByte);
      start = end;
      startByte = stop;
      this.#splitDone = start;
    }
  }

  /** Same as `writeSync`. */
  write(records: readonly LogRecord[]): void {
    this.writeSync(records);
  }

  /** fsyncs when `fsync: true`. */
  flush(): void {
    if (this.#fsync) this.#file.sync();
  }

  /** Closes and reopens the live file (after an outside rotation; what SIGHUP calls). */
  reopen(): void {
    try {
      this.#file.reopen();
      this.#counters.reopens.inc();
    } catch (error) {
      this.#failure("reopen", `Cannot reopen the file of sink "${this.#id}"`, error);
    }
  }

  /** When the next time rotation is due (epoch ms), if the sink rotates by time. */
  get nextRotation(): number | undefined {
    return this.#schedule ? this.#rolloverAt * 1000 : undefined;
  }

  /**
   * Resolves when every queued compression and background file operation (deletions, the
   * next live file's creation) has finished.
   */
  settled(): Promise<void> {
    return this.#upkeep.settled();
  }

  /**
   * Finishes the compression in progress (queued ones resume on the next start) and the
   * background deletions, removes the unused next live file, and closes.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      if (this.#fsync && this.#file.isOpen) this.#file.sync();
    } finally {
      this.#file.close();
      await this.#upkeep.close();
    }
  }

  /** Reopens the live file when it was moved or deleted from outside: before every batch. */
  #checkFile(): void {
    try {
      const event = this.#file.check();
      if (event === "reopened") this.#counters.reopens.inc();
    } catch (error) {
      // The write that follows fails too and is retried by the pipeline.
      this.#failure("reopen", `Cannot reopen the file of sink "${this.#id}"`, error);
    }
  }

  #maintain(now: number): void {
    this.#nextCheck = now + this.#checkInterval;
    this.#upkeep.maintain(now);
  }

  /** Rotates the live file; returns false (counted, reported) when it could not. */
  #rotate(now: number, forTime: boolean): boolean {
    const seconds = Math.floor(now / 1000);
    const schedule = this.#schedule;
    if (forTime && schedule) {
      // Python's doRollover computes the next instant even when nothing was written.
      const stamp = schedule.suffix(this.#rolloverAt, seconds);
      const next = schedule.next(seconds);
      if (this.#file.size === 0) {
        this.#rolloverAt = next;
        return true;
      }
      if (now < this.#rotationBlockedUntil) return false;
      if (!this.#moveLive(now, stamp)) return false;
      this.#rolloverAt = next;
      return true;
    }
    if (now < this.#rotationBlockedUntil) return false;
    const stamp = schedule ? schedule.suffix(this.#rolloverAt, seconds) : "";
    return this.#moveLive(now, stamp);
  }

  #moveLive(now: number, stamp: string): boolean {
    const file = this.#file;
    let backup: Backup | undefined;
    try {
      file.close();
      if (this.#keep === 0) this.#upkeep.deleteLive();
      else {
        if (this.#backups.mode === "size") {
          // Make room first: after the shift the oldest kept is number `backups`.
          for (const old of this.#backups.expired(this.#keep - 1)) this.#upkeep.delete(old);
        }
        backup = this.#backups.rotateIn(stamp);
      }
    } catch (error) {
      this.#rotationBlockedUntil = now + RETRY_ROTATION_MS;
      this.#failure("rotate", `Cannot rotate the file of sink "${this.#id}"`, error);
      file.open(); // Keep writing to the current file; throws (the write is retried) if it cannot.
      return false;
    }
    this.#counters.rotations.inc();
    const spare = this.#upkeep.placeSpare();
    if (spare) this.#file.adopt(spare.file, spare.info);
    else this.#file.open();
    this.#upkeep.prepareSpare();
    this.#upkeep.applyRetention(now);
    this.#upkeep.rotated(backup);
    return true;
  }

  #failure(operation: string, message: string, error: unknown): void {
    this.#counters.error(operation).inc();
    this.#log.warnOnce(`rotating_file:${this.#id}:${operation}`, message, error);
  }
}

const WHEN_JSON = {
  type: "string",
  pattern: "^([SsMmHhDd]|[Mm][Ii][Dd][Nn][Ii][Gg][Hh][Tt]|[Ww][0-6])$",
};

/**
 * Size and time rotation in one sink, named as Python names them so existing tooling keeps
 * working: `app.log.1` … `app.log.N` for size (shifted, 1 is the newest),
 * `app.log.2026-11-24` for time (suffix per `when` as in Python: S `%Y-%m-%d_%H-%M-%S`,
 * M `%Y-%m-%d_%H-%M`, H `%Y-%m-%d_%H`, D/midnight/W `%Y-%m-%d`, naming the period the file
 * covers), and `app.log.2026-11-24.1`, `.2` … in write order when both are set. Compressed
 * files get `.gz`. Rotation happens between records, never inside one: a file never grows
 * past `max_bytes` except to hold a single larger record alone. Rotation instants follow
 * Python's `TimedRotatingFileHandler` exactly (including its drift for S/M/H/D, `at_time`
 * for midnight and W0-W6, and the DST corrections). A rotation, deletion or compression
 * that fails is counted in `sluice_file_errors_total{operation}`, reported once, and retried;
 * writes continue to the live file meanwhile. The live file is reopened when it is moved,
 * deleted or truncated from outside (checked before every batch) and on SIGHUP. Hidden
 * entries keep file-system work off the write path (deleted files wait up to a second in a
 * directory removed in one operation, the next live file is created ahead), all inside one
 * work directory per run, `.app.log.sluice-<random>.tmp`, with a marker file: gone after
 * shutdown, removed by the next start after a crash. Each run holds an exclusive lock
 * (`flock`) on a file in its work directory for its whole life, released by the kernel when
 * the process dies (SIGKILL too): a start removes only work directories whose lock it can
 * take, and refuses (a `PluginError` naming the file and the other run's pid) when another
 * running process's sink holds one for the same file, since two rotators corrupt each
 * other's numbering. (A reload's new sink in the same process shares the file with the old
 * one as it drains, as before.) The sink deletes and renames no entry it
 * did not write: its backups are recorded with their identity in `.app.log.sluice-backups`
 * (`BackupJournal`), and any other entry named like one (another program's file, a backup
 * left by Python's handlers or by a version that kept no record, a directory, a link) is
 * skipped, counted in `sluice_files_skipped_total` and said once (at start-up with how many
 * and where), and rotation goes on past it.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   app_file:
 *     type: rotating_file
 *     path: logs/app.log
 *     format: json
 *     max_bytes: 10MiB
 *     when: midnight
 *     backups: 7
 *     max_age: 14d
 *     compress: gzip
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "sink",
  writesSync: true,
  type: "rotating_file",
  description:
    "A file rotated by size and/or time with Python's names, retention by count and age, gzip.",
  options: s.object({
    path: s.string({ minLength: 1 }).describe("The live file; relative to the config file."),
    format: s.formatter().default({ type: "json", options: {} }).describe("The formatter."),
    max_bytes: s.bytes().default(0).describe(
      "Rotate before the file would exceed this size (Python's maxBytes); 0 disables.",
    ),
    when: s.custom(parseWhen, "one of S, M, H, D, midnight, W0-W6", WHEN_JSON).optional()
      .describe("Time rotation as Python's `when`: S, M, H, D, midnight, W0 (Monday)-W6."),
    interval: s.integer({ min: 1 }).default(1).describe("Units of `when` between rotations."),
    at_time: s.custom(
      (v) => parseAtTime(v) === undefined ? undefined : String(v).trim(),
      "a time of day such as 02:30 or 02:30:00",
      { type: "string", pattern: "^\\d{1,2}:\\d{2}(:\\d{2})?$" },
    ).optional().describe("Time of day for midnight and W0-W6 rotation."),
    utc: s.boolean().default(false).describe("Use UTC instead of local time."),
    backups: s.integer({ min: 0 }).default(7).describe(
      "Rotated files kept (Python's backupCount); 0 keeps none.",
    ),
    max_age: s.duration().optional().describe("Also delete rotated files older than this."),
    compress: s.enum(["none", "gzip"] as const).default("none").describe(
      "Compress rotated files (in the background).",
    ),
    fsync: s.boolean().default(false).describe("fsync on flush and shutdown."),
  }),
  permissions: (options, context) => {
    // Reads too: the directory is listed for backups and the live file stat-ed for outside moves.
    const dir = dirname(resolve(context.baseDir, options.path));
    return { read: [dir], write: [dir] };
  },
  create(options, context) {
    return new RotatingFileSink(options as RotatingFileOptions, context);
  },
});

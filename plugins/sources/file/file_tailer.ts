/**
 * Follows files matching globs, across rename-and-create and copytruncate rotation,
 * reading big chunks and handing out complete lines, with offsets checkpointed by file
 * fingerprint so that a restart resumes exactly where it stopped.
 *
 * @module
 */

import { type Checkpoint, type CheckpointStore, hashBytes } from "./checkpoints.ts";
import type { Glob } from "./glob.ts";
import { pread } from "./pread.ts";
import { type Handle, TailStream } from "./tail_stream.ts";
import { TailedFiles } from "./tailed_files.ts";
import { utf8Length } from "../../../src/core/utf8_length.ts";

/** Lines read from one file, handed to the consumer in order. */
export interface TailBatch {
  /** The file's path when read. */
  path: string;
  /** Complete lines without their newline (a multiline group joined with `\n`). */
  lines: string[];
  /** Indexes into `lines` of lines cut to `maxLineBytes`. */
  truncated: number[];
}

/** Joining continuation lines (stack traces) to the line that starts a record. */
export interface MultilineOptions {
  /** A line matching this starts a new record; any other line continues the current one. */
  start: RegExp;
  /** A pending record is complete after this long without a new line (ms). */
  timeout: number;
  /** Most lines in one record; a longer group is split. */
  maxLines: number;
}

/** What the tailer counts, as callbacks so that it stays free of the metrics registry. */
export interface TailerEvents {
  /** A file was opened for reading. */
  opened?(path: string): void;
  /** A file was let go (deleted or rotated out of the globs, and read to its end). */
  released?(path: string): void;
  /** A file shrank or was rewritten from its start (copytruncate) and is read again from 0. */
  truncated?(path: string): void;
  /** A line was cut to `maxLineBytes`. */
  lineTruncated?(path: string): void;
  /** An operation failed (`read`, `open`, `checkpoint`); the tailer keeps going. */
  error?(operation: string, message: string, error: unknown): void;
}

/** Options of a {@linkcode FileTailer}. */
export interface FileTailerOptions {
  /** Files to follow. */
  include: readonly Glob[];
  /** Files to skip. */
  exclude?: readonly Glob[];
  /** Where to start in files present at the first scan that have no checkpoint. */
  readFrom?: "beginning" | "end";
  /** Longer lines are cut to this many bytes (default 1 MiB). */
  maxLineBytes?: number;
  /** Join continuation lines. */
  multiline?: MultilineOptions;
  /** How long to wait for more data when every file is read (ms, default 250). */
  pollInterval?: number;
  /** How often to look for new files (ms, default 1000). */
  scanInterval?: number;
  /** How long a rotated-away or deleted file is kept open after its last data (ms, default 2000). */
  rotateWait?: number;
  /** Where offsets are saved; none means every start begins afresh. */
  checkpoints?: CheckpointStore;
  /** Least time between two checkpoint saves while running (ms, default 1000). */
  checkpointInterval?: number;
  /** Receives the lines; the tailer reads no further until the promise resolves. */
  deliver(batch: TailBatch): Promise<void>;
  /** Counting hooks. */
  events?: TailerEvents;
}

/** How much of a file's start fingerprints it (a copy is recognised by it). */
const FINGERPRINT_BYTES = 1024;
const MAX_CHUNKS_PER_TURN = 16;
const RETAIN_RELEASED_MS = 24 * 3600_000;
const MAX_DORMANT = 1000;

/**
 * The tail engine behind the `file` source.
 *
 * @example Tail a file once and stop
 * ```ts
 * import { FileTailer } from "./file_tailer.ts";
 * import { compileGlob } from "./glob.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/app.log`, "one\ntwo\n");
 * const lines: string[] = [];
 * const tailer = new FileTailer({
 *   include: [compileGlob("*.log", dir)],
 *   deliver: (batch) => (lines.push(...batch.lines), Promise.resolve()),
 * });
 * tailer.start();
 * while (lines.length < 2) await new Promise((r) => setTimeout(r, 10));
 * await tailer.stop();
 * assert.ok(lines.join() === "one,two");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class FileTailer {
  readonly #options: FileTailerOptions;
  readonly #maxLineBytes: number;
  readonly #pollInterval: number;
  readonly #scanInterval: number;
  readonly #checkpointInterval: number;
  readonly #events: TailerEvents;
  readonly #files: TailedFiles;
  #buffer: Uint8Array;
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();
  #nextScan = 0;
  #nextSave = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Loads the checkpoints; nothing is read until `start()`. */
  constructor(options: FileTailerOptions) {
    this.#options = options;
    this.#maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
    this.#pollInterval = options.pollInterval ?? 250;
    this.#scanInterval = options.scanInterval ?? 1000;
    this.#checkpointInterval = options.checkpointInterval ?? 1000;
    this.#events = options.events ?? {};
    this.#buffer = new Uint8Array(Math.max(1024 * 1024, this.#maxLineBytes + 1));
    let dormant: Checkpoint[] = [];
    if (options.checkpoints) {
      try {
        dormant = options.checkpoints.load();
      } catch (error) {
        this.#events.error?.(
          "checkpoint",
          `Cannot read checkpoints "${options.checkpoints.path}"; starting without them`,
          error,
        );
        try {
          Deno.renameSync(options.checkpoints.path, `${options.checkpoints.path}.corrupt`);
        } catch {
          // Leave it; the next save replaces it.
        }
      }
    }
    this.#files = new TailedFiles({
      include: options.include,
      exclude: options.exclude ?? [],
      readFrom: options.readFrom,
      rotateWait: options.rotateWait ?? 2000,
      dormant,
      events: this.#events,
      completeGroup: (stream, drained, releasing, now) => {
        const multiline = this.#options.multiline;
        const group = stream.group;
        if (
          !group ||
          !(releasing || (multiline && drained && now - group.last >= multiline.timeout))
        ) return undefined;
        const batch: TailBatch = { path: stream.path, lines: [], truncated: [] };
        this.#complete(stream, batch);
        stream.rememberMark();
        this.#files.dirty = true;
        return this.#options.deliver(batch);
      },
    });
  }

  /** Paths currently open, for diagnostics and tests. */
  get files(): string[] {
    return [...this.#files.handles.values()].map((h) => h.path).sort();
  }

  /** Starts following (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops reading, saves the checkpoints and closes every file. A multiline record still
   * pending is not delivered: its lines are read again after a restart.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    this.#save(Date.now());
    this.#files.close();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const now = Date.now();
      if (now >= this.#nextScan) {
        this.#files.scan(now);
        this.#nextScan = now + this.#scanInterval;
      }
      let progressed = false;
      for (const stream of [...this.#files.streams]) {
        if (this.#stopped) break;
        if (await this.#pump(stream)) progressed = true;
      }
      if (this.#stopped) break;
      await this.#files.expire(Date.now());
      if (Date.now() >= this.#nextSave && this.#files.dirty) this.#save(Date.now());
      if (!progressed) await this.#sleep(this.#pollInterval);
      else await this.#sleep(0); // let timers (sink batches, the server) run between chunks
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#timer);
        this.#wake = undefined;
        resolve();
      };
      this.#timer = setTimeout(() => this.#wake?.(), ms);
    });
  }

  // ------------------------------------------------------------------------------ reading

  /** Checks a stream's files, then reads what is new; returns whether lines were delivered. */
  async #pump(stream: TailStream): Promise<boolean> {
    const primary = this.#refresh(stream);
    if (!primary) return false;
    let delivered = false;
    for (let turn = 0; turn < MAX_CHUNKS_PER_TURN && !this.#stopped; turn++) {
      if (primary.size <= stream.readPos) break;
      let batch: TailBatch;
      try {
        batch = this.#readChunk(stream, primary);
      } catch (error) {
        this.#events.error?.("read", `Cannot read "${primary.path}"`, error);
        break;
      }
      stream.lastData = Date.now();
      stream.rememberMark(); // still known if the file is truncated next
      this.#files.dirty = true;
      if (batch.lines.length === 0) continue;
      // deliver() routes the batch synchronously; the checkpoint already counts it.
      await this.#options.deliver(batch);
      delivered = true;
    }
    return delivered;
  }

  /**
   * Updates sizes, splits off files that were truncated or rewritten (they start a stream
   * of their own from 0), grows the fingerprint, and returns the handle to read from.
   */
  #refresh(stream: TailStream): Handle | undefined {
    for (const handle of [...stream.handles]) {
      let size: number;
      try {
        size = handle.file.statSync().size;
      } catch (error) {
        this.#events.error?.("read", `Cannot stat "${handle.path}"`, error);
        continue;
      }
      let rewritten = size < handle.size;
      if (
        !rewritten && size > handle.size && stream.headLen > 0 && size >= stream.headLen &&
        hashBytes(pread(handle.file, 0, stream.headLen)) !== stream.headHash
      ) rewritten = true;
      handle.size = size;
      if (rewritten) {
        this.#events.truncated?.(handle.path);
        stream.handles.splice(stream.handles.indexOf(handle), 1);
        this.#files.adopt(new TailStream(0), handle, Date.now());
      }
    }
    if (stream.handles.length === 0) return undefined;
    let primary = stream.handles[0]!;
    for (const handle of stream.handles) if (handle.size > primary.size) primary = handle;
    stream.path = primary.path;
    if (stream.headLen < FINGERPRINT_BYTES && primary.size > stream.headLen) {
      const len = Math.min(primary.size, FINGERPRINT_BYTES);
      stream.headHash = hashBytes(pread(primary.file, 0, len));
      stream.headLen = len;
      this.#files.dirty = true;
    }
    return primary;
  }

  /** Reads one chunk at the stream's position and turns it into complete lines. */
  #readChunk(stream: TailStream, handle: Handle): TailBatch {
    const want = Math.min(this.#buffer.length, handle.size - stream.readPos);
    const view = this.#readAt(handle.file, stream.readPos, want);
    const batch: TailBatch = { path: handle.path, lines: [], truncated: [] };
    const n = view.length;
    if (n === 0) return batch;
    const multiline = this.#options.multiline;

    if (stream.skipFrom >= 0) {
      // Skipping the rest of an overlong line.
      const nl = view.indexOf(10);
      if (nl < 0) {
        stream.readPos += n;
        return batch;
      }
      const line = this.#decoder.decode(stream.overflow);
      const start = stream.skipFrom;
      stream.skipFrom = -1;
      stream.overflow = undefined;
      stream.readPos += nl + 1;
      this.#events.lineTruncated?.(handle.path);
      if (multiline) this.#feed(stream, batch, line, start, true, multiline);
      else {
        batch.truncated.push(batch.lines.length);
        batch.lines.push(line);
      }
      return batch;
    }

    const last = view.lastIndexOf(10);
    if (last < 0) {
      if (n > this.#maxLineBytes) {
        stream.skipFrom = stream.readPos;
        stream.overflow = view.slice(0, cutUtf8(view, this.#maxLineBytes));
        stream.readPos += n;
      }
      return batch; // A partial line: wait for its end.
    }

    if (multiline) {
      let pos = 0;
      for (;;) {
        const e = view.indexOf(10, pos);
        if (e < 0 || e > last) break;
        const end = e > pos && view[e - 1] === 13 ? e - 1 : e;
        let bytes = view.subarray(pos, end);
        let truncated = false;
        if (bytes.length > this.#maxLineBytes) {
          bytes = bytes.subarray(0, cutUtf8(bytes, this.#maxLineBytes));
          truncated = true;
          this.#events.lineTruncated?.(handle.path);
        }
        this.#feed(
          stream,
          batch,
          this.#decoder.decode(bytes),
          stream.readPos + pos,
          truncated,
          multiline,
        );
        pos = e + 1;
      }
      stream.readPos += last + 1;
      if (stream.group) stream.group.last = Date.now();
      return batch;
    }

    const text = this.#decoder.decode(view.subarray(0, last));
    const lines = batch.lines;
    const maxChars = Math.floor(this.#maxLineBytes / 3);
    let s = 0;
    for (;;) {
      const e = text.indexOf("\n", s);
      let line = e < 0 ? text.slice(s) : text.slice(s, e);
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (line.length > maxChars && utf8Length(line) > this.#maxLineBytes) {
        line = this.#truncate(line);
        batch.truncated.push(lines.length);
        this.#events.lineTruncated?.(handle.path);
      }
      lines.push(line);
      if (e < 0) break;
      s = e + 1;
    }
    stream.readPos += last + 1;
    return batch;
  }

  #readAt(file: Deno.FsFile, offset: number, length: number): Uint8Array {
    const buffer = this.#buffer;
    file.seekSync(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < length) {
      const n = file.readSync(buffer.subarray(got, length));
      if (n === null || n === 0) break;
      got += n;
    }
    return buffer.subarray(0, got);
  }

  #truncate(line: string): string {
    const bytes = this.#encoder.encode(line);
    return this.#decoder.decode(bytes.subarray(0, cutUtf8(bytes, this.#maxLineBytes)));
  }

  /** Adds a line to the stream's multiline group, completing the previous group when it starts one. */
  #feed(
    stream: TailStream,
    batch: TailBatch,
    line: string,
    start: number,
    truncated: boolean,
    multiline: MultilineOptions,
  ): void {
    const group = stream.group;
    const bytes = utf8Length(line) + 1;
    if (
      group && !multiline.start.test(line) && group.lines.length < multiline.maxLines
    ) {
      if (group.bytes + bytes > this.#maxLineBytes) {
        if (!group.truncated) this.#events.lineTruncated?.(batch.path);
        group.truncated = true; // The rest of the record is dropped from its text.
      } else {
        group.lines.push(line);
        group.bytes += bytes;
      }
      group.truncated ||= truncated;
      return;
    }
    if (group) this.#complete(stream, batch);
    stream.group = { lines: [line], bytes, start, last: Date.now(), truncated };
  }

  #complete(stream: TailStream, batch: TailBatch): void {
    const group = stream.group;
    if (!group) return;
    stream.group = undefined;
    if (group.truncated) batch.truncated.push(batch.lines.length);
    batch.lines.push(group.lines.join("\n"));
  }

  // ---------------------------------------------------------------------------- checkpoints

  #save(now: number): void {
    this.#nextSave = now + this.#checkpointInterval;
    const store = this.#options.checkpoints;
    if (!store) return;
    const files = this.#files;
    files.dormant = files.dormant.filter((c) =>
      c.released === undefined || now - c.released < RETAIN_RELEASED_MS
    );
    if (files.dormant.length > MAX_DORMANT) {
      files.dormant.sort((a, b) => b.updated - a.updated);
      files.dormant.length = MAX_DORMANT;
    }
    const entries: Checkpoint[] = [];
    for (const stream of files.streams) {
      for (const h of stream.handles) entries.push(stream.toCheckpoint(h.dev, h.ino, h.path, now));
      // Every file of it was truncated away; its copy may still turn up, after a restart too.
      if (stream.handles.length === 0) {
        entries.push(stream.toCheckpoint(-1, -1, stream.path, now, now));
      }
    }
    entries.push(...files.dormant);
    try {
      store.save(entries);
      files.dirty = false;
    } catch (error) {
      this.#events.error?.("checkpoint", `Cannot save checkpoints "${store.path}"`, error);
    }
  }
}

/** The length of the longest prefix of at most `max` bytes that does not split a character. */
function cutUtf8(bytes: Uint8Array, max: number): number {
  let end = Math.min(max, bytes.length);
  if (end < bytes.length) { while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; }
  return end;
}

/**
 * Follows files matching globs, across rename-and-create and copytruncate rotation,
 * reading big chunks and handing out complete lines, with offsets checkpointed by file
 * fingerprint so that a restart resumes exactly where it stopped.
 *
 * @module
 */

import { type Checkpoint, type CheckpointStore, hashBytes } from "./checkpoints.ts";
import { expandGlobs, type Glob } from "./glob.ts";
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

const FINGERPRINT_BYTES = 1024;
const MIN_COPY_FINGERPRINT = 128;
const MARK_BYTES = 256;
const MAX_CHUNKS_PER_TURN = 16;
const RETAIN_RELEASED_MS = 24 * 3600_000;
const MAX_DORMANT = 1000;

interface Handle {
  key: string;
  dev: number;
  ino: number;
  file: Deno.FsFile;
  path: string;
  size: number;
  /** When the file stopped matching the globs (0 while it matches). */
  unmatchedSince: number;
  stream: Stream;
}

interface Group {
  lines: string[];
  bytes: number;
  start: number;
  last: number;
  truncated: boolean;
}

class Stream {
  headLen = 0;
  headHash = "";
  readPos = 0;
  /** Start of an overlong line being skipped, or -1. */
  skipFrom = -1;
  overflow: Uint8Array | undefined;
  group: Group | undefined;
  handles: Handle[] = [];
  path = "";
  /** The mark of the checkpoint at `savedMarkAt`, kept for when the files no longer hold it. */
  savedMark = "";
  savedMarkAt = -1;
  lastData = 0;

  constructor(readPos = 0) {
    this.readPos = readPos;
  }

  /** Where a restart must resume: before anything not yet delivered. */
  get checkpoint(): number {
    if (this.group) return this.group.start;
    if (this.skipFrom >= 0) return this.skipFrom;
    return this.readPos;
  }
}

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
  readonly #rotateWait: number;
  readonly #checkpointInterval: number;
  readonly #events: TailerEvents;
  readonly #handles = new Map<string, Handle>();
  readonly #streams = new Set<Stream>();
  #dormant: Checkpoint[] = [];
  #buffer: Uint8Array;
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();
  #firstScan = true;
  /** Small new files seen at the last scan, by key, with their size then. */
  #pending = new Map<string, number>();
  #nextScan = 0;
  #nextSave = 0;
  #dirty = false;
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
    this.#rotateWait = options.rotateWait ?? 2000;
    this.#checkpointInterval = options.checkpointInterval ?? 1000;
    this.#events = options.events ?? {};
    this.#buffer = new Uint8Array(Math.max(1024 * 1024, this.#maxLineBytes + 1));
    if (options.checkpoints) {
      try {
        this.#dormant = options.checkpoints.load();
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
  }

  /** Paths currently open, for diagnostics and tests. */
  get files(): string[] {
    return [...this.#handles.values()].map((h) => h.path).sort();
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
    for (const handle of this.#handles.values()) handle.file.close();
    this.#handles.clear();
    this.#streams.clear();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const now = Date.now();
      if (now >= this.#nextScan) {
        this.#scan(now);
        this.#nextScan = now + this.#scanInterval;
      }
      let progressed = false;
      for (const stream of [...this.#streams]) {
        if (this.#stopped) break;
        if (await this.#pump(stream)) progressed = true;
      }
      if (this.#stopped) break;
      await this.#expire(Date.now());
      if (Date.now() >= this.#nextSave && this.#dirty) this.#save(Date.now());
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

  // ---------------------------------------------------------------------------- discovery

  #scan(now: number): void {
    const paths = expandGlobs(this.#options.include, this.#options.exclude ?? []);
    const seen = new Set<string>();
    for (const path of paths) {
      let info: Deno.FileInfo;
      try {
        info = Deno.statSync(path);
      } catch {
        continue; // Gone between listing and stat.
      }
      const key = `${info.dev}:${info.ino ?? 0}`;
      seen.add(key);
      const known = this.#handles.get(key);
      if (known) {
        known.path = path;
        known.unmatchedSince = 0;
        continue;
      }
      // A small new file may be a copy still being written (copytruncate): wait until it
      // has enough bytes to be recognised, or stops growing.
      if (
        !this.#firstScan && info.size < MIN_COPY_FINGERPRINT &&
        this.#pending.get(key) !== info.size &&
        !this.#dormant.some((c) => c.dev === info.dev && c.ino === (info.ino ?? 0))
      ) {
        this.#pending.set(key, info.size);
        continue;
      }
      this.#pending.delete(key);
      this.#open(path, key, now);
    }
    for (const key of this.#pending.keys()) if (!seen.has(key)) this.#pending.delete(key);
    for (const handle of this.#handles.values()) {
      if (!seen.has(handle.key) && handle.unmatchedSince === 0) handle.unmatchedSince = now;
    }
    this.#firstScan = false;
  }

  #open(path: string, key: string, now: number): void {
    let file: Deno.FsFile;
    let info: Deno.FileInfo;
    try {
      file = Deno.openSync(path, { read: true });
      info = file.statSync();
    } catch (error) {
      this.#events.error?.("open", `Cannot open "${path}"`, error);
      return;
    }
    const actualKey = `${info.dev}:${info.ino ?? 0}`;
    if (actualKey !== key && this.#handles.has(actualKey)) {
      file.close(); // Replaced between stat and open by a file we already follow.
      return;
    }
    const handle: Handle = {
      key: actualKey,
      dev: info.dev,
      ino: info.ino ?? 0,
      file,
      path,
      size: info.size,
      unmatchedSince: 0,
      stream: undefined as unknown as Stream,
    };
    this.#handles.set(actualKey, handle);
    this.#attach(handle, now);
    this.#events.opened?.(path);
  }

  /** Finds the stream a newly opened file continues, or starts a new one. */
  #attach(handle: Handle, now: number): void {
    const size = handle.size;
    const heads = new Map<number, string>();
    const headOf = (len: number) => {
      let hash = heads.get(len);
      if (hash === undefined) {
        hash = len === 0 ? "" : hashBytes(this.#pread(handle.file, 0, len));
        heads.set(len, hash);
      }
      return hash;
    };
    // 1. The same file (device, inode, unchanged head) as a saved checkpoint.
    const sameFile = this.#dormant.findIndex((c) =>
      c.dev === handle.dev && c.ino === handle.ino && c.released === undefined
    );
    if (sameFile >= 0) {
      const saved = this.#dormant[sameFile]!;
      if (
        saved.head_len === 0 ||
        (size >= saved.head_len && headOf(saved.head_len) === saved.head_hash)
      ) {
        this.#dormant.splice(sameFile, 1);
        const live = this.#liveByFingerprint(saved.head_len, saved.head_hash);
        if (live && saved.head_len >= MIN_COPY_FINGERPRINT) return this.#join(live, handle);
        const stream = new Stream(Math.min(saved.offset, size));
        stream.headLen = saved.head_len;
        stream.headHash = saved.head_hash;
        stream.savedMark = saved.mark_hash;
        stream.savedMarkAt = stream.readPos;
        return this.#adopt(stream, handle, now);
      }
      // Same inode, other content: truncated and rewritten while we were away (its old
      // content may live on in a copy, which rule 2 finds), or the inode was reused.
      saved.released = now;
    }
    // 2. A copy of a file we know (copytruncate's copy, or a rename across devices).
    for (const stream of this.#streams) {
      if (stream.headLen < MIN_COPY_FINGERPRINT || size < stream.headLen) continue;
      if (headOf(stream.headLen) !== stream.headHash) continue;
      if (!this.#markMatches(handle, stream.checkpoint, this.#markOf(stream))) continue;
      return this.#join(stream, handle);
    }
    for (let i = 0; i < this.#dormant.length; i++) {
      const saved = this.#dormant[i]!;
      if (saved.head_len < MIN_COPY_FINGERPRINT || size < saved.head_len) continue;
      if (headOf(saved.head_len) !== saved.head_hash) continue;
      if (!this.#markMatches(handle, saved.offset, saved.mark_hash)) continue;
      this.#dormant.splice(i, 1);
      const stream = new Stream(Math.min(saved.offset, size));
      stream.headLen = saved.head_len;
      stream.headHash = saved.head_hash;
      stream.savedMark = saved.mark_hash;
      stream.savedMarkAt = stream.readPos;
      return this.#adopt(stream, handle, now);
    }
    // 3. A new file.
    const start = this.#firstScan && this.#options.readFrom === "end"
      ? this.#lineStartBefore(handle.file, size)
      : 0;
    this.#adopt(new Stream(start), handle, now);
  }

  #liveByFingerprint(len: number, hash: string): Stream | undefined {
    for (const stream of this.#streams) {
      if (stream.headLen === len && stream.headHash === hash) return stream;
    }
    return undefined;
  }

  #adopt(stream: Stream, handle: Handle, now: number): void {
    stream.path = handle.path;
    stream.lastData = now;
    this.#streams.add(stream);
    this.#join(stream, handle);
    this.#dirty = true;
  }

  #join(stream: Stream, handle: Handle): void {
    handle.stream = stream;
    stream.handles.push(handle);
  }

  /** Whether `handle` holds the same bytes before `offset` as the stream's mark says. */
  #markMatches(handle: Handle, offset: number, mark: string): boolean {
    if (mark === "" || offset === 0 || handle.size < offset) return true;
    return hashBytes(
      this.#pread(handle.file, Math.max(0, offset - MARK_BYTES), Math.min(offset, MARK_BYTES)),
    ) ===
      mark;
  }

  /**
   * The hash of the (up to) 256 bytes before the stream's checkpoint, read from a file that
   * still holds them, else the one remembered for that same checkpoint, else "" (unknown).
   */
  #markOf(stream: Stream): string {
    const offset = stream.checkpoint;
    if (offset === 0) return "";
    const fresh = this.#freshMark(stream, offset);
    if (fresh !== undefined) return fresh;
    return stream.savedMarkAt === offset ? stream.savedMark : "";
  }

  #freshMark(stream: Stream, offset: number): string | undefined {
    const length = Math.min(offset, MARK_BYTES);
    for (const handle of stream.handles) {
      if (handle.size < offset) continue;
      try {
        // The size may be stale (truncated since the last refresh): a short read does not count.
        const bytes = this.#pread(handle.file, offset - length, length);
        if (bytes.length === length) return hashBytes(bytes);
      } catch {
        // Try another handle.
      }
    }
    return undefined;
  }

  /** Remembers the mark of the current checkpoint while the bytes are surely there. */
  #rememberMark(stream: Stream): void {
    const offset = stream.checkpoint;
    const fresh = offset === 0 ? "" : this.#freshMark(stream, offset);
    if (fresh === undefined) return;
    stream.savedMark = fresh;
    stream.savedMarkAt = offset;
  }

  /** Where the last complete line of the first `size` bytes ends (for `read_from: end`). */
  #lineStartBefore(file: Deno.FsFile, size: number): number {
    let end = size;
    while (end > 0) {
      const from = Math.max(0, end - 65536);
      const bytes = this.#pread(file, from, end - from);
      const nl = bytes.lastIndexOf(10);
      if (nl >= 0) return from + nl + 1;
      end = from;
    }
    return 0;
  }

  #pread(file: Deno.FsFile, offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    file.seekSync(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < length) {
      const n = file.readSync(out.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    return got === length ? out : out.subarray(0, got);
  }

  // ------------------------------------------------------------------------------ reading

  /** Checks a stream's files, then reads what is new; returns whether lines were delivered. */
  async #pump(stream: Stream): Promise<boolean> {
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
      this.#rememberMark(stream); // still known if the file is truncated next
      this.#dirty = true;
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
  #refresh(stream: Stream): Handle | undefined {
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
        hashBytes(this.#pread(handle.file, 0, stream.headLen)) !== stream.headHash
      ) rewritten = true;
      handle.size = size;
      if (rewritten) {
        this.#events.truncated?.(handle.path);
        stream.handles.splice(stream.handles.indexOf(handle), 1);
        this.#adopt(new Stream(0), handle, Date.now());
      }
    }
    if (stream.handles.length === 0) return undefined;
    let primary = stream.handles[0]!;
    for (const handle of stream.handles) if (handle.size > primary.size) primary = handle;
    stream.path = primary.path;
    if (stream.headLen < FINGERPRINT_BYTES && primary.size > stream.headLen) {
      const len = Math.min(primary.size, FINGERPRINT_BYTES);
      stream.headHash = hashBytes(this.#pread(primary.file, 0, len));
      stream.headLen = len;
      this.#dirty = true;
    }
    return primary;
  }

  /** Reads one chunk at the stream's position and turns it into complete lines. */
  #readChunk(stream: Stream, handle: Handle): TailBatch {
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
    stream: Stream,
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

  #complete(stream: Stream, batch: TailBatch): void {
    const group = stream.group;
    if (!group) return;
    stream.group = undefined;
    if (group.truncated) batch.truncated.push(batch.lines.length);
    batch.lines.push(group.lines.join("\n"));
  }

  // ------------------------------------------------------------------- expiry and release

  /** Completes idle multiline records and lets go of files that are gone and fully read. */
  async #expire(now: number): Promise<void> {
    const multiline = this.#options.multiline;
    for (const stream of [...this.#streams]) {
      if (stream.handles.length === 0) {
        // Every file of the stream was truncated away; a copy may still show up.
        if (now - stream.lastData >= this.#rotateWait) {
          this.#dormant.push(this.#entry(stream, -1, -1, stream.path, now, now));
          this.#streams.delete(stream);
          this.#dirty = true;
        }
        continue;
      }
      const drained = stream.handles.every((h) => h.size <= stream.readPos) &&
        stream.skipFrom < 0;
      const gone = stream.handles.filter((h) =>
        h.unmatchedSince > 0 &&
        now - Math.max(h.unmatchedSince, stream.lastData) >= this.#rotateWait
      );
      const releasing = drained && gone.length === stream.handles.length;
      if (
        stream.group &&
        (releasing || (multiline && drained && now - stream.group.last >= multiline.timeout))
      ) {
        const batch: TailBatch = { path: stream.path, lines: [], truncated: [] };
        this.#complete(stream, batch);
        this.#rememberMark(stream);
        this.#dirty = true;
        await this.#options.deliver(batch);
      }
      if (!drained) continue;
      for (const handle of gone) {
        if (stream.handles.length === 1) {
          // Keep its checkpoint: the file may show up again under a matching name.
          this.#dormant.push(this.#entry(stream, handle.dev, handle.ino, handle.path, now, now));
          this.#streams.delete(stream);
        }
        stream.handles.splice(stream.handles.indexOf(handle), 1);
        this.#handles.delete(handle.key);
        handle.file.close();
        this.#dirty = true;
        this.#events.released?.(handle.path);
      }
    }
  }

  // ---------------------------------------------------------------------------- checkpoints

  #entry(
    stream: Stream,
    dev: number,
    ino: number,
    path: string,
    now: number,
    released?: number,
  ): Checkpoint {
    const entry: Checkpoint = {
      dev,
      ino,
      path,
      head_len: stream.headLen,
      head_hash: stream.headHash,
      mark_hash: this.#markOf(stream),
      offset: stream.checkpoint,
      updated: now,
    };
    if (released !== undefined) entry.released = released;
    return entry;
  }

  #save(now: number): void {
    this.#nextSave = now + this.#checkpointInterval;
    const store = this.#options.checkpoints;
    if (!store) return;
    this.#dormant = this.#dormant.filter((c) =>
      c.released === undefined || now - c.released < RETAIN_RELEASED_MS
    );
    if (this.#dormant.length > MAX_DORMANT) {
      this.#dormant.sort((a, b) => b.updated - a.updated);
      this.#dormant.length = MAX_DORMANT;
    }
    const entries: Checkpoint[] = [];
    for (const stream of this.#streams) {
      for (const h of stream.handles) entries.push(this.#entry(stream, h.dev, h.ino, h.path, now));
      // Every file of it was truncated away; its copy may still turn up, after a restart too.
      if (stream.handles.length === 0) {
        entries.push(this.#entry(stream, -1, -1, stream.path, now, now));
      }
    }
    entries.push(...this.#dormant);
    try {
      store.save(entries);
      this.#dirty = false;
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

/**
 * The files the tailer follows: discovery by glob, recognising a file met before (by
 * device and inode, or by its first bytes for a copy), and letting go of files that are
 * gone and fully read.
 *
 * @module
 */

import { type Checkpoint, hashBytes } from "./checkpoints.ts";
import { expandGlobs, type Glob } from "./glob.ts";
import { pread } from "./pread.ts";
import { type Handle, MARK_BYTES, TailStream } from "./tail_stream.ts";
import type { TailerEvents } from "./file_tailer.ts";

/** A copy shorter than this cannot be told from a new file yet: it waits a scan. */
const MIN_COPY_FINGERPRINT = 128;

/** Options of {@linkcode TailedFiles}. */
export interface TailedFilesOptions {
  /** Files to follow. */
  include: readonly Glob[];
  /** Files to skip. */
  exclude: readonly Glob[];
  /** Where to start in files present at the first scan that have no checkpoint. */
  readFrom: "beginning" | "end" | undefined;
  /** How long a rotated-away or deleted file is kept open after its last data (ms). */
  rotateWait: number;
  /** The saved checkpoints. */
  dormant: Checkpoint[];
  events: TailerEvents;
  /**
   * Completes a stream's pending multiline record if it is due (`releasing`: its files are
   * let go) and delivers it; `undefined` when there was none to deliver.
   */
  completeGroup(
    stream: TailStream,
    drained: boolean,
    releasing: boolean,
    now: number,
  ): Promise<void> | undefined;
}

/** The open files, the streams they hold, and the checkpoints of files not open. */
export class TailedFiles {
  /** Open files by `dev:ino`. */
  readonly handles = new Map<string, Handle>();
  /** The streams being read. */
  readonly streams = new Set<TailStream>();
  /** Checkpoints of files not open (saved, released, or truncated away). */
  dormant: Checkpoint[];
  /** Whether anything a checkpoint holds changed since the last save. */
  dirty = false;

  readonly #options: TailedFilesOptions;
  readonly #events: TailerEvents;
  #firstScan = true;
  /** Small new files seen at the last scan, by key, with their size then. */
  #pending = new Map<string, number>();

  /** Follows nothing until the first `scan()`. */
  constructor(options: TailedFilesOptions) {
    this.#options = options;
    this.#events = options.events;
    this.dormant = options.dormant;
  }

  /** Opens the files newly matching the globs and marks those that stopped matching. */
  scan(now: number): void {
    const paths = expandGlobs(this.#options.include, this.#options.exclude);
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
      const known = this.handles.get(key);
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
        !this.dormant.some((c) => c.dev === info.dev && c.ino === (info.ino ?? 0))
      ) {
        this.#pending.set(key, info.size);
        continue;
      }
      this.#pending.delete(key);
      this.#open(path, key, now);
    }
    for (const key of this.#pending.keys()) if (!seen.has(key)) this.#pending.delete(key);
    for (const handle of this.handles.values()) {
      if (!seen.has(handle.key) && handle.unmatchedSince === 0) handle.unmatchedSince = now;
    }
    this.#firstScan = false;
  }

  /** Starts reading `stream` from `handle` (a file newly met, or split off when rewritten). */
  adopt(stream: TailStream, handle: Handle, now: number): void {
    stream.path = handle.path;
    stream.lastData = now;
    this.streams.add(stream);
    this.#join(stream, handle);
    this.dirty = true;
  }

  /** Completes idle multiline records and lets go of files that are gone and fully read. */
  async expire(now: number): Promise<void> {
    const rotateWait = this.#options.rotateWait;
    for (const stream of [...this.streams]) {
      if (stream.handles.length === 0) {
        // Every file of the stream was truncated away; a copy may still show up.
        if (now - stream.lastData >= rotateWait) {
          this.dormant.push(stream.toCheckpoint(-1, -1, stream.path, now, now));
          this.streams.delete(stream);
          this.dirty = true;
        }
        continue;
      }
      const drained = stream.handles.every((h) => h.size <= stream.readPos) &&
        stream.skipFrom < 0;
      const gone = stream.handles.filter((h) =>
        h.unmatchedSince > 0 &&
        now - Math.max(h.unmatchedSince, stream.lastData) >= rotateWait
      );
      const releasing = drained && gone.length === stream.handles.length;
      const delivering = this.#options.completeGroup(stream, drained, releasing, now);
      if (delivering) await delivering;
      if (!drained) continue;
      for (const handle of gone) {
        if (stream.handles.length === 1) {
          // Keep its checkpoint: the file may show up again under a matching name.
          this.dormant.push(stream.toCheckpoint(handle.dev, handle.ino, handle.path, now, now));
          this.streams.delete(stream);
        }
        stream.handles.splice(stream.handles.indexOf(handle), 1);
        this.handles.delete(handle.key);
        handle.file.close();
        this.dirty = true;
        this.#events.released?.(handle.path);
      }
    }
  }

  /** Closes every file. */
  close(): void {
    for (const handle of this.handles.values()) handle.file.close();
    this.handles.clear();
    this.streams.clear();
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
    if (actualKey !== key && this.handles.has(actualKey)) {
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
      stream: undefined as unknown as TailStream,
    };
    this.handles.set(actualKey, handle);
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
        hash = len === 0 ? "" : hashBytes(pread(handle.file, 0, len));
        heads.set(len, hash);
      }
      return hash;
    };
    // 1. The same file (device, inode, unchanged head) as a saved checkpoint.
    const sameFile = this.dormant.findIndex((c) =>
      c.dev === handle.dev && c.ino === handle.ino && c.released === undefined
    );
    if (sameFile >= 0) {
      const saved = this.dormant[sameFile]!;
      if (
        saved.head_len === 0 ||
        (size >= saved.head_len && headOf(saved.head_len) === saved.head_hash)
      ) {
        this.dormant.splice(sameFile, 1);
        const live = this.#liveByFingerprint(saved.head_len, saved.head_hash);
        if (live && saved.head_len >= MIN_COPY_FINGERPRINT) return this.#join(live, handle);
        return this.adopt(resumed(saved, size), handle, now);
      }
      // Same inode, other content: truncated and rewritten while we were away (its old
      // content may live on in a copy, which rule 2 finds), or the inode was reused.
      saved.released = now;
    }
    // 2. A copy of a file we know (copytruncate's copy, or a rename across devices).
    for (const stream of this.streams) {
      if (stream.headLen < MIN_COPY_FINGERPRINT || size < stream.headLen) continue;
      if (headOf(stream.headLen) !== stream.headHash) continue;
      if (!markMatches(handle, stream.checkpoint, stream.mark())) continue;
      return this.#join(stream, handle);
    }
    for (let i = 0; i < this.dormant.length; i++) {
      const saved = this.dormant[i]!;
      if (saved.head_len < MIN_COPY_FINGERPRINT || size < saved.head_len) continue;
      if (headOf(saved.head_len) !== saved.head_hash) continue;
      if (!markMatches(handle, saved.offset, saved.mark_hash)) continue;
      this.dormant.splice(i, 1);
      return this.adopt(resumed(saved, size), handle, now);
    }
    // 3. A new file.
    const start = this.#firstScan && this.#options.readFrom === "end"
      ? lineStartBefore(handle.file, size)
      : 0;
    this.adopt(new TailStream(start), handle, now);
  }

  #liveByFingerprint(len: number, hash: string): TailStream | undefined {
    for (const stream of this.streams) {
      if (stream.headLen === len && stream.headHash === hash) return stream;
    }
    return undefined;
  }

  #join(stream: TailStream, handle: Handle): void {
    handle.stream = stream;
    stream.handles.push(handle);
  }
}

/** The stream a saved checkpoint resumes, in a file of `size` bytes. */
function resumed(saved: Checkpoint, size: number): TailStream {
  const stream = new TailStream(Math.min(saved.offset, size));
  stream.headLen = saved.head_len;
  stream.headHash = saved.head_hash;
  stream.savedMark = saved.mark_hash;
  stream.savedMarkAt = stream.readPos;
  return stream;
}

/** Whether `handle` holds the same bytes before `offset` as the stream's mark says. */
function markMatches(handle: Handle, offset: number, mark: string): boolean {
  if (mark === "" || offset === 0 || handle.size < offset) return true;
  return hashBytes(
    pread(handle.file, Math.max(0, offset - MARK_BYTES), Math.min(offset, MARK_BYTES)),
  ) === mark;
}

/** Where the last complete line of the first `size` bytes ends (for `read_from: end`). */
function lineStartBefore(file: Deno.FsFile, size: number): number {
  let end = size;
  while (end > 0) {
    const from = Math.max(0, end - 65536);
    const bytes = pread(file, from, end - from);
    const nl = bytes.lastIndexOf(10);
    if (nl >= 0) return from + nl + 1;
    end = from;
  }
  return 0;
}

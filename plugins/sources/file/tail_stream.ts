/**
 * What the file tailer follows: a stream of bytes (one file's content, across the names and
 * copies it has had) and the open files that hold it.
 *
 * @module
 */

import { type Checkpoint, hashBytes } from "./checkpoints.ts";
import { pread } from "./pread.ts";

/** Bytes before a checkpoint whose hash (the mark) proves a file still holds them. */
export const MARK_BYTES = 256;

/** One open file. */
export interface Handle {
  key: string;
  dev: number;
  ino: number;
  file: Deno.FsFile;
  path: string;
  size: number;
  /** When the file stopped matching the globs (0 while it matches). */
  unmatchedSince: number;
  stream: TailStream;
}

/** A multiline record being gathered. */
export interface Group {
  lines: string[];
  bytes: number;
  start: number;
  last: number;
  truncated: boolean;
}

/** One followed content, its position, and the files that hold it. */
export class TailStream {
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

  /** A stream that resumes at `readPos`. */
  constructor(readPos = 0) {
    this.readPos = readPos;
  }

  /** Where a restart must resume: before anything not yet delivered. */
  get checkpoint(): number {
    if (this.group) return this.group.start;
    if (this.skipFrom >= 0) return this.skipFrom;
    return this.readPos;
  }

  /**
   * The hash of the (up to) 256 bytes before the checkpoint, read from a file that still
   * holds them, else the one remembered for that same checkpoint, else "" (unknown).
   */
  mark(): string {
    const offset = this.checkpoint;
    if (offset === 0) return "";
    const fresh = this.#freshMark(offset);
    if (fresh !== undefined) return fresh;
    return this.savedMarkAt === offset ? this.savedMark : "";
  }

  /** Remembers the mark of the current checkpoint while the bytes are surely there. */
  rememberMark(): void {
    const offset = this.checkpoint;
    const fresh = offset === 0 ? "" : this.#freshMark(offset);
    if (fresh === undefined) return;
    this.savedMark = fresh;
    this.savedMarkAt = offset;
  }

  /** The checkpoint of the stream as held by one file (`released` for one let go). */
  toCheckpoint(
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
      head_len: this.headLen,
      head_hash: this.headHash,
      mark_hash: this.mark(),
      offset: this.checkpoint,
      updated: now,
    };
    if (released !== undefined) entry.released = released;
    return entry;
  }

  #freshMark(offset: number): string | undefined {
    const length = Math.min(offset, MARK_BYTES);
    for (const handle of this.handles) {
      if (handle.size < offset) continue;
      try {
        // The size may be stale (truncated since the last refresh): a short read does not count.
        const bytes = pread(handle.file, offset - length, length);
        if (bytes.length === length) return hashBytes(bytes);
      } catch {
        // Try another handle.
      }
    }
    return undefined;
  }
}

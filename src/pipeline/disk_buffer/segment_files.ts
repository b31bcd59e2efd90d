/**
 * The segment files of one disk buffer: the list from the oldest undelivered to the one
 * being written, the open writer and reader, and what happens to a file that goes bad
 * (damage counted and named once, an unreadable segment moved aside) or is done with
 * (deleted). `disk_buffer.ts` decides when; this module does it and says so.
 *
 * @module
 */

import type { LogRecord } from "../../core/record.ts";
import type { BufferFile, BufferFs } from "./buffer_fs.ts";
import { decodeRecords, SegmentReader } from "./frame.ts";
import { segmentName } from "./survey.ts";
import { messageOf } from "../../core/message_of.ts";

/** A segment in use: its id, file name and how much of it is written. */
export interface Segment {
  /** Its id (ids only grow, and are never reused). */
  id: number;
  /** Its file name. */
  name: string;
  /** Bytes written (what readers may read). */
  size: number;
}

/** A place in the buffer: a segment id and an offset in it. */
export interface Position {
  /** Segment id. */
  segment: number;
  /** Byte offset in that segment. */
  offset: number;
}

/** What reading at a frame boundary found: a frame's records, damage skipped, or nothing. */
export type FrameRead =
  | { records: LogRecord[]; time: number; end: number }
  | { end: number }
  | undefined;

/**
 * The segment files of one buffer directory (see the module documentation).
 *
 * @example A segment that cannot be read is moved aside and named
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoBufferFs } from "./buffer_fs.ts";
 * import { SegmentFiles } from "./segment_files.ts";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   const notices: string[] = [];
 *   const files = new SegmentFiles(dir, denoBufferFs, (m) => notices.push(m));
 *   const { segment } = files.openWriter(7);
 *   files.closeWriter();
 *   files.moveAside(segment, new Error("EIO"));
 *   assert.deepEqual(denoBufferFs.list(dir), ["00000000000000000007.seg.unreadable"]);
 *   assert.deepEqual(files.movedAside, ["00000000000000000007.seg"]);
 *   assert.match(notices[0]!, /cannot read segment .*0007\.seg \(EIO\); moved it aside/);
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export class SegmentFiles {
  /** Corrupt regions found (torn tails, flipped bits). */
  corruptFrames = 0;
  /** Bytes in those regions. */
  corruptBytes = 0;
  /** Segments moved aside because they could not be read. */
  readonly movedAside: string[] = [];
  /** Bytes of the segment files in {@linkcode list}. */
  diskBytes = 0;
  /** Segments from the one holding the first unacknowledged frame to the one being written. */
  readonly list: Segment[] = [];
  /** The segment being appended to, if any (always the last of {@linkcode list}). */
  writer: { segment: Segment; file: BufferFile } | undefined;

  #reader: { id: number; file: BufferFile; reader: SegmentReader } | undefined;
  /** Corrupt regions already counted, so that reading one again does not count it twice. */
  readonly #known = new Set<string>();

  /** The files of `dir` on `fs`; `notice` is told about damage, moves and failed deletes. */
  constructor(
    readonly dir: string,
    readonly fs: BufferFs,
    readonly notice: (message: string) => void,
  ) {}

  /** The path of a file of the directory. */
  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /** The first segment with an id at or after `id`. */
  atOrAfter(id: number): Segment | undefined {
    for (const segment of this.list) if (segment.id >= id) return segment;
    return undefined;
  }

  /** Whether `pos` is at the end of the last segment (nothing left to read). */
  caughtUp(pos: Position): boolean {
    const last = this.list[this.list.length - 1];
    return last === undefined || (pos.segment >= last.id && pos.offset >= last.size);
  }

  /** Creates segment `id` and makes it the one being written. */
  openWriter(id: number): { segment: Segment; file: BufferFile } {
    const segment: Segment = { id, name: segmentName(id), size: 0 };
    const file = this.fs.open(this.path(segment.name), true);
    this.list.push(segment);
    this.writer = { segment, file };
    return this.writer;
  }

  /** Stops writing the current segment (it stays in the list until delivered). */
  closeWriter(): void {
    const writer = this.writer;
    if (!writer) return;
    this.writer = undefined;
    try {
      writer.file.close();
    } catch {
      // Closing a file we will not write again: nothing depends on it.
    }
  }

  /** Closes the reader's file. */
  closeReader(): void {
    const reader = this.#reader;
    if (!reader) return;
    this.#reader = undefined;
    try {
      reader.file.close();
    } catch {
      // Read-only use: nothing to lose.
    }
  }

  /** The reader of `segment`, opened on demand, sized to what is written; moved aside on failure. */
  reader(segment: Segment): SegmentReader | undefined {
    if (this.#reader?.id !== segment.id) {
      this.closeReader();
      try {
        const file = this.fs.open(this.path(segment.name), false);
        this.#reader = { id: segment.id, file, reader: new SegmentReader(file, segment.size) };
      } catch (error) {
        this.moveAside(segment, error);
        return undefined;
      }
    }
    const reader = this.#reader!.reader;
    reader.size = segment.size;
    return reader;
  }

  /** The frame at `offset` of `segment` decoded, or the damage there skipped and counted. */
  readFrame(segment: Segment, offset: number): FrameRead {
    const reader = this.reader(segment);
    if (!reader) return undefined;
    let next;
    try {
      next = reader.next(offset);
    } catch (error) {
      this.moveAside(segment, error);
      return undefined;
    }
    if (!next) return undefined;
    if ("frame" in next) {
      try {
        return {
          records: decodeRecords(next.frame.payload),
          time: next.frame.time,
          end: next.frame.end,
        };
      } catch (error) {
        this.damage(segment, offset, next.frame.end, messageOf(error));
        return { end: next.frame.end };
      }
    }
    this.damage(segment, offset, next.corrupt.end, "no valid frame");
    return { end: next.corrupt.end };
  }

  /** Counts and names a corrupt region once. */
  damage(segment: Segment, offset: number, end: number, why: string): void {
    const key = `${segment.id}:${offset}`;
    if (this.#known.has(key)) return;
    this.#known.add(key);
    this.corruptFrames++;
    this.corruptBytes += end - offset;
    const tail = end >= segment.size && segment !== this.writer?.segment;
    this.notice(
      `skipped ${end - offset} corrupt bytes at offset ${offset} of segment ${
        this.path(segment.name)
      } (${tail ? "a torn tail" : why}); reading resumes at the next valid frame`,
    );
  }

  /** Deletes the segments wholly before `pos` (never the one being written). */
  deleteBefore(pos: Position): void {
    while (this.list.length > 0) {
      const segment = this.list[0]!;
      if (segment === this.writer?.segment) break;
      const before = segment.id < pos.segment ||
        (segment.id === pos.segment && pos.offset >= segment.size);
      if (!before) break;
      this.list.shift();
      if (this.#reader?.id === segment.id) this.closeReader();
      this.diskBytes -= segment.size;
      this.remove(segment.name);
    }
  }

  /** Deletes a delivered segment's file; a failure is said, never thrown (it is replayed at worst). */
  remove(name: string): void {
    try {
      this.fs.remove(this.path(name));
    } catch (error) {
      this.notice(`cannot delete delivered segment ${this.path(name)}: ${messageOf(error)}`);
    }
  }

  /** Renames a segment that cannot be read to `<name>.unreadable`, counts it and names it. */
  moveAside(segment: Segment, error: unknown): void {
    const index = this.list.indexOf(segment);
    if (index !== -1) {
      this.list.splice(index, 1);
      if (this.writer?.segment === segment) this.closeWriter();
      this.diskBytes -= segment.size;
    }
    if (this.#reader?.id === segment.id) this.closeReader();
    let where = this.path(`${segment.name}.unreadable`);
    try {
      this.fs.rename(this.path(segment.name), where);
    } catch (renameError) {
      where = `nowhere (${messageOf(renameError)}); it is left as it is`;
    }
    this.movedAside.push(segment.name);
    this.notice(
      `cannot read segment ${this.path(segment.name)} (${
        messageOf(error)
      }); moved it aside to ${where}: its records are not replayed`,
    );
  }
}

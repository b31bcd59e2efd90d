/**
 * What `sluice buffer check` reports: every segment of every disk buffer under a directory
 * read and verified, without changing anything (a running agent's buffer can be checked).
 *
 * @module
 */

import { basename, join } from "node:path";
import { openReadOnly } from "./buffer_fs.ts";
import { Ledger, type LedgerPosition } from "./ledger.ts";
import { segmentId, surveyBuffer } from "./survey.ts";
import { messageOf } from "../../core/message_of.ts";

/** A region of a segment that is not a valid frame. */
export interface CorruptFrameReport {
  /** The segment's file name. */
  segment: string;
  /** Where the bad bytes start. */
  offset: number;
  /** How many there are (up to the next valid frame or the end). */
  bytes: number;
  /** Whether the region runs to the end of the segment (a torn append). */
  tail: boolean;
}

/** One sink's disk buffer, checked. */
export interface BufferReport {
  /** The sink's id (the directory's name, decoded). */
  sink: string;
  /** The buffer's directory. */
  dir: string;
  /** Segment files still holding undelivered frames (or damage). */
  segments: number;
  /** Records not yet delivered. */
  records: number;
  /** Bytes of their frames. */
  bytes: number;
  /** Bytes of all segment files (what `max_bytes` bounds). */
  diskBytes: number;
  /** When the oldest undelivered record was appended (epoch ms). */
  oldestTime: number | undefined;
  /** Records the ledger says were being delivered (they may arrive twice). */
  inFlight: number;
  /** `ok`, `missing` (everything is replayed) or `damaged` (a slot does not check out). */
  ledger: "ok" | "missing" | "damaged";
  /** Delivered segments not yet deleted (the next start deletes them). */
  delivered: string[];
  /** Regions that are not valid frames. */
  corrupt: CorruptFrameReport[];
  /** Segments that cannot be read, with the reason. */
  unreadable: { segment: string; error: string }[];
  /** Segments an earlier run moved aside (`<name>.unreadable`); their records are not replayed. */
  movedAside: string[];
}

/** Thrown when `dir` holds no disk buffer. */
export class BufferCheckError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BufferCheckError";
  }
}

function isBufferDir(dir: string): boolean {
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) continue;
      if (entry.name === "ledger" || segmentId(entry.name) !== undefined) return true;
      if (entry.name.endsWith(".seg.unreadable")) return true;
    }
  } catch {
    return false;
  }
  return false;
}

/**
 * The buffer directories `dir` names: itself when it is one, else those under
 * `dir/buffers/` (a `data_dir`), else those directly under it (a `buffers/` directory).
 */
function findBufferDirs(dir: string): string[] {
  let stat;
  try {
    stat = Deno.statSync(dir);
  } catch (error) {
    throw new BufferCheckError(`Cannot read "${dir}": ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (!stat.isDirectory) throw new BufferCheckError(`"${dir}" is not a directory`);
  if (isBufferDir(dir)) return [dir];
  for (const parent of [join(dir, "buffers"), dir]) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(parent)];
    } catch {
      continue;
    }
    const dirs = entries.filter((e) => e.isDirectory).map((e) => join(parent, e.name))
      .filter(isBufferDir).sort();
    if (dirs.length > 0) return dirs;
  }
  throw new BufferCheckError(
    `No disk buffer in "${dir}": give a data_dir, its buffers/ directory or one sink's buffer directory`,
  );
}

function readLedger(
  dir: string,
): { position: LedgerPosition | undefined; state: BufferReport["ledger"] } {
  let file;
  try {
    file = openReadOnly(join(dir, "ledger"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { position: undefined, state: "missing" };
    return { position: undefined, state: "damaged" };
  }
  try {
    const { position, damaged } = new Ledger(file).read();
    return { position, state: damaged ? "damaged" : position ? "ok" : "missing" };
  } catch {
    return { position: undefined, state: "damaged" };
  } finally {
    file.close();
  }
}

/** Reads and verifies one sink's buffer directory (changing nothing). */
function checkBuffer(dir: string): BufferReport {
  const { position, state } = readLedger(dir);
  const survey = surveyBuffer({
    names: [...Deno.readDirSync(dir)].filter((e) => !e.isDirectory).map((e) => e.name),
    open: (name) => openReadOnly(join(dir, name)),
    from: position,
    decode: true,
  });
  let sink = basename(dir);
  try {
    sink = decodeURIComponent(sink);
  } catch {
    // Not written by Sluice's encoding: shown as it is.
  }
  const report: BufferReport = {
    sink,
    dir,
    segments: 0,
    records: 0,
    bytes: 0,
    diskBytes: 0,
    oldestTime: undefined,
    inFlight: 0,
    ledger: state,
    delivered: survey.delivered,
    corrupt: [],
    unreadable: [],
    movedAside: survey.movedAside,
  };
  for (const segment of survey.segments) {
    report.diskBytes += segment.size;
    if (segment.error !== undefined) {
      const error = segment.error;
      report.unreadable.push({
        segment: segment.name,
        error: messageOf(error),
      });
      continue;
    }
    if (segment.records > 0 || segment.damage.length > 0) report.segments++;
    report.records += segment.records;
    report.bytes += segment.bytes;
    report.oldestTime ??= segment.firstTime;
    for (const region of segment.damage) {
      report.corrupt.push({
        segment: segment.name,
        offset: region.offset,
        bytes: region.end - region.offset,
        tail: region.end >= segment.size,
      });
    }
  }
  report.inFlight = Math.min(position?.inFlight ?? 0, report.records);
  return report;
}

/**
 * Checks every disk buffer `dir` names (see {@linkcode findBufferDirs}).
 *
 * @example A buffer with one record pending
 * ```ts
 * import assert from "node:assert/strict";
 * import { DiskBuffer } from "./disk_buffer.ts";
 * import { checkBuffers } from "./check_buffers.ts";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   const buffer = DiskBuffer.open({ dir: `${dir}/buffers/peer`, fsync: "always" });
 *   buffer.append([{ time: 1, level: 20, logger: "", message: "kept", fields: {} }]);
 *   buffer.close();
 *   const [report] = checkBuffers(dir);
 *   assert.equal(report!.sink, "peer");
 *   assert.equal(report!.records, 1);
 *   assert.deepEqual(report!.corrupt, []);
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export function checkBuffers(dir: string): BufferReport[] {
  return findBufferDirs(dir).map(checkBuffer);
}

/**
 * Reading a disk buffer's directory without changing it: which segments there are, which of
 * them the ledger says were delivered, and what each of the others holds (records, bytes,
 * damage). A buffer opening runs it and then acts on what it found (deletes, moves aside,
 * counts); `sluice buffer check` runs it and reports.
 *
 * @module
 */

import type { BufferFile } from "./buffer_fs.ts";
import { type CorruptRegion, decodeRecords, type Frame, SegmentReader } from "./frame.ts";
import type { LedgerPosition } from "./ledger.ts";

const SEGMENT = /^(\d{20})\.seg$/;
const ASIDE = /^(\d{20})\.seg\.unreadable$/;

/** A segment's file name. */
export function segmentName(id: number): string {
  return `${String(id).padStart(20, "0")}.seg`;
}

/** The id of a segment file name, or `undefined` for any other name. */
export function segmentId(name: string): number | undefined {
  const match = SEGMENT.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** What one segment at or after the ledger's position holds. */
export interface SegmentSurvey {
  /** Its id (from its name). */
  id: number;
  /** Its file name. */
  name: string;
  /** The file's size in bytes (0 when it could not be read). */
  size: number;
  /** Where its undelivered frames start: the ledger's offset in its segment, else 0. */
  start: number;
  /** Records in the valid frames from `start` on. */
  records: number;
  /** Bytes of those frames. */
  bytes: number;
  /** Append time (epoch ms) of the first of those frames. */
  firstTime: number | undefined;
  /** Regions from `start` on that are not valid frames, in order. */
  damage: CorruptRegion[];
  /** Why it could not be opened or read (such a segment is moved aside by a buffer). */
  error?: unknown;
}

/** What a buffer directory holds. */
export interface BufferSurvey {
  /** Segments wholly before the ledger's position: delivered. */
  delivered: string[];
  /** The other segments, oldest first. */
  segments: SegmentSurvey[];
  /** Segments moved aside by an earlier run (`<name>.unreadable`). */
  movedAside: string[];
  /** The highest segment id seen, in any name or in the ledger (0 when none). */
  maxId: number;
}

/** Options of {@linkcode surveyBuffer}. */
export interface SurveyOptions {
  /** The names in the directory. */
  names: readonly string[];
  /** Opens a segment by name (read-only is enough unless `sync`). */
  open(name: string): BufferFile;
  /** Where the ledger says delivery resumes (`undefined`: replay everything). */
  from: LedgerPosition | undefined;
  /** `fdatasync` each segment surveyed (a previous run may have been killed before syncing). */
  sync?: boolean;
  /**
   * Also decode every frame's records and compare their number with the header's (a frame
   * whose checksum matched but holds no records is then damage, as a read would find).
   */
  decode?: boolean;
}

/**
 * Surveys a buffer directory: lists its segments in id order, sets aside those the ledger
 * put behind it, and reads every frame of the rest. Never throws on damage: a segment it
 * cannot read carries its `error`, a region that is not a frame is listed in `damage`.
 *
 * @example A buffer directory with one frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoBufferFs } from "./buffer_fs.ts";
 * import { encodeFrame } from "./frame.ts";
 * import { segmentName, surveyBuffer } from "./survey.ts";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   const record = { time: 1, level: 20, logger: "", message: "hi", fields: {} };
 *   Deno.writeFileSync(`${dir}/${segmentName(3)}`, encodeFrame([record], 1000));
 *   const survey = surveyBuffer({
 *     names: denoBufferFs.list(dir),
 *     open: (name) => denoBufferFs.open(`${dir}/${name}`, false),
 *     from: undefined,
 *   });
 *   assert.equal(survey.maxId, 3);
 *   assert.equal(survey.segments[0]!.records, 1);
 *   assert.equal(survey.segments[0]!.firstTime, 1000);
 *   assert.deepEqual(survey.segments[0]!.damage, []);
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export function surveyBuffer(options: SurveyOptions): BufferSurvey {
  const from = options.from?.segment ?? 0;
  let maxId = from;
  const found: { id: number; name: string }[] = [];
  const movedAside: string[] = [];
  for (const name of options.names) {
    const id = segmentId(name);
    if (id !== undefined) {
      found.push({ id, name });
      maxId = Math.max(maxId, id);
      continue;
    }
    const aside = ASIDE.exec(name);
    if (aside) {
      movedAside.push(name);
      maxId = Math.max(maxId, Number(aside[1]));
    }
  }
  found.sort((a, b) => a.id - b.id);
  movedAside.sort();
  const delivered: string[] = [];
  const segments: SegmentSurvey[] = [];
  for (const { id, name } of found) {
    if (id < from) {
      delivered.push(name);
      continue;
    }
    segments.push(readSegment(options, id, name, id === from));
  }
  return { delivered, segments, movedAside, maxId };
}

/** Reads every frame of one segment, from the ledger's offset when `atLedger`. */
function readSegment(
  options: SurveyOptions,
  id: number,
  name: string,
  atLedger: boolean,
): SegmentSurvey {
  const survey: SegmentSurvey = {
    id,
    name,
    size: 0,
    start: 0,
    records: 0,
    bytes: 0,
    firstTime: undefined,
    damage: [],
  };
  let file: BufferFile;
  try {
    file = options.open(name);
  } catch (error) {
    survey.error = error;
    return survey;
  }
  try {
    survey.size = file.size();
    // A ledger pointing past the end (a power loss took the tail) resumes at the end.
    survey.start = atLedger ? Math.min(options.from?.offset ?? 0, survey.size) : 0;
    if (options.sync) file.sync();
    const reader = new SegmentReader(file, survey.size);
    for (let offset = survey.start;;) {
      const next = reader.next(offset);
      if (!next) break;
      if ("frame" in next && options.decode && !decodes(next.frame)) {
        survey.damage.push({ offset: next.frame.offset, end: next.frame.end });
        offset = next.frame.end;
      } else if ("frame" in next) {
        survey.records += next.frame.count;
        survey.bytes += next.frame.end - next.frame.offset;
        survey.firstTime ??= next.frame.time;
        offset = next.frame.end;
      } else {
        survey.damage.push(next.corrupt);
        offset = next.corrupt.end;
      }
    }
  } catch (error) {
    survey.error = error;
    survey.records = 0;
    survey.bytes = 0;
    survey.firstTime = undefined;
  } finally {
    try {
      file.close();
    } catch {
      // Read-only use: nothing to lose.
    }
  }
  return survey;
}

function decodes(frame: Frame): boolean {
  try {
    return decodeRecords(frame.payload).length === frame.count;
  } catch {
    return false;
  }
}

/**
 * A sink's `buffer:` after its schema: the defaults that depend on `type`, and the
 * combinations that do not exist.
 *
 * @module
 */

import type { ParseContext, Path } from "../schema/schema.ts";
import type { BufferConfig, WhenFull } from "./types.ts";

/** What the schema gives for `buffer:` (the keys whose default depends on `type` unset). */
export interface ParsedBuffer {
  type: "memory" | "disk";
  max_records: number;
  max_bytes?: number | undefined;
  when_full: WhenFull;
  fsync?: "always" | "interval" | "never" | undefined;
  fsync_interval?: number | undefined;
}

/** A memory queue's default bound. */
const MEMORY_MAX_BYTES = 8 * 1024 * 1024;
/** A disk buffer's default bound: hours of a busy agent's output, far from filling a disk. */
const DISK_MAX_BYTES = 256 * 1024 * 1024;
/** `fsync: interval`'s default: at most this much acknowledged output is exposed to power loss. */
const FSYNC_INTERVAL = 100;

/**
 * Fills `max_bytes` by type and, for `type: disk`, the `fsync` settings; reports
 * `when_full: drop_oldest` on a disk buffer (its oldest records are on disk, already
 * acknowledged) and `fsync` keys on a memory buffer.
 *
 * @example A disk buffer with its defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveBuffer } from "./resolve_buffer.ts";
 * const ctx = { issues: [] };
 * const buffer = resolveBuffer({ type: "disk", max_records: 10_000, when_full: "block" }, [], ctx);
 * assert.deepEqual(buffer.disk, { fsync: "interval", fsync_interval: 100 });
 * assert.equal(buffer.max_bytes, 256 * 1024 * 1024);
 * assert.deepEqual(ctx.issues, []);
 * ```
 */
export function resolveBuffer(parsed: ParsedBuffer, path: Path, ctx: ParseContext): BufferConfig {
  const disk = parsed.type === "disk";
  const buffer: BufferConfig = {
    max_records: parsed.max_records,
    max_bytes: parsed.max_bytes ?? (disk ? DISK_MAX_BYTES : MEMORY_MAX_BYTES),
    when_full: parsed.when_full,
  };
  if (disk) {
    buffer.disk = {
      fsync: parsed.fsync ?? "interval",
      fsync_interval: parsed.fsync_interval ?? FSYNC_INTERVAL,
    };
    if (parsed.when_full === "drop_oldest") {
      ctx.issues.push({
        path: [...path, "when_full"],
        message:
          'when_full "drop_oldest" is not available with a disk buffer: its oldest records are on disk and were acknowledged',
        hint: "use `block` (sources wait) or `drop_newest`",
      });
    }
  } else {
    for (const key of ["fsync", "fsync_interval"] as const) {
      if (parsed[key] !== undefined) {
        ctx.issues.push({
          path: [...path, key],
          message: `${key} applies to a disk buffer only; this buffer is in memory`,
          hint: "add `type: disk` to the buffer, or remove the key",
        });
      }
    }
  }
  return buffer;
}

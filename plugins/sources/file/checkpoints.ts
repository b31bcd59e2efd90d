/**
 * Read offsets of tailed files, saved in the data directory and keyed by a fingerprint of
 * each file (device, inode and a hash of its first bytes) rather than by its name, so that
 * a restart resumes where it stopped even if the files were rotated meanwhile.
 *
 * @module
 */

import { dirname } from "node:path";

/** One file's saved position. Field names are the file format (snake_case JSON). */
export interface Checkpoint {
  /** Device of the file when saved. */
  dev: number;
  /** Inode of the file when saved. */
  ino: number;
  /** Its path when last seen (informational). */
  path: string;
  /** How many leading bytes `head_hash` covers. */
  head_len: number;
  /** Hash of the first `head_len` bytes. */
  head_hash: string;
  /** Hash of the (up to) 256 bytes before `offset`, to tell a copy from a look-alike. */
  mark_hash: string;
  /** The byte after the last line delivered: where reading resumes. */
  offset: number;
  /** When it was saved (epoch ms). */
  updated: number;
  /** When the source let go of the file (deleted, or rotated out of `include`), if it did. */
  released?: number;
}

/**
 * A 64-bit FNV-1a hash of `bytes` as 16 hex digits (two 32-bit lanes with different
 * offsets); fast and synchronous, for fingerprints, not for security.
 *
 * @example Equal bytes, equal hashes
 * ```ts
 * import { hashBytes } from "./checkpoints.ts";
 * import assert from "node:assert/strict";
 * const a = hashBytes(new TextEncoder().encode("line 1\n"));
 * assert.ok(a === hashBytes(new TextEncoder().encode("line 1\n")) && a.length === 16);
 * ```
 */
export function hashBytes(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x01000193) ^ (h2 >>> 13);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

/**
 * The checkpoint file of one source: a JSON document written atomically (a temporary file
 * renamed over the old one).
 *
 * @example Save and load
 * ```ts
 * import { CheckpointStore } from "./checkpoints.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * const store = new CheckpointStore(`${dir}/file_source/tail.json`);
 * store.save([{ dev: 1, ino: 2, path: "a.log", head_len: 0, head_hash: "", mark_hash: "", offset: 42, updated: 0 }]);
 * assert.ok(store.load()[0]?.offset === 42);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class CheckpointStore {
  /** The checkpoint file. */
  readonly path: string;

  /** Binds the store to a file; nothing is read or written yet. */
  constructor(path: string) {
    this.path = path;
  }

  /**
   * Reads the saved checkpoints; none when the file does not exist. A file that is not a
   * checkpoint document throws a `SyntaxError` naming it.
   */
  load(): Checkpoint[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`Checkpoint file "${this.path}" is not valid JSON`, { cause: error });
    }
    const files = (doc as { files?: unknown })?.files;
    if (!Array.isArray(files)) {
      throw new SyntaxError(`Checkpoint file "${this.path}" has no "files" list`);
    }
    return files.filter((f): f is Checkpoint =>
      typeof f === "object" && f !== null && typeof f.dev === "number" &&
      typeof f.ino === "number" && typeof f.offset === "number" &&
      typeof f.head_len === "number" && typeof f.head_hash === "string"
    ).map((f) => ({ ...f, mark_hash: typeof f.mark_hash === "string" ? f.mark_hash : "" }));
  }

  /** Replaces the saved checkpoints (creating the directory); throws on I/O errors. */
  save(files: readonly Checkpoint[]): void {
    Deno.mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.tmp`;
    Deno.writeTextFileSync(temp, JSON.stringify({ version: 1, files }, null, 1) + "\n");
    Deno.renameSync(temp, this.path);
  }
}

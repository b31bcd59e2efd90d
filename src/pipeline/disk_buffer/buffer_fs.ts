/**
 * The few file-system calls a disk buffer makes, behind an interface so that a test can run
 * the buffer on a simulated file system that crashes at any step and loses unsynced writes.
 *
 * @module
 */

/** An open file of a disk buffer (read and write). */
export interface BufferFile {
  /** Writes all of `bytes` at `offset` (a short write is retried until done or it throws). */
  writeAt(offset: number, bytes: Uint8Array): void;
  /** Reads up to `length` bytes at `offset`; fewer at the end of the file. */
  readAt(offset: number, length: number): Uint8Array;
  /** The file's size in bytes. */
  size(): number;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): void;
  /** Makes the file's data durable (`fdatasync`). */
  sync(): void;
  /**
   * `sync()` on another thread, so that the caller's goes on appending meanwhile; it covers
   * at least what was written before the call. Absent: `sync()` is used.
   */
  syncInBackground?(): Promise<void>;
  /** Closes the file. */
  close(): void;
}

/** A directory's worth of file-system calls, all synchronous. */
export interface BufferFs {
  /** Creates `dir` and its parents if missing. */
  mkdirp(dir: string): void;
  /** The names of the entries of `dir` (files and directories). */
  list(dir: string): string[];
  /** Opens `path` for reading and writing; creates it when `create` is set. */
  open(path: string, create: boolean): BufferFile;
  /** Deletes a file. */
  remove(path: string): void;
  /** Renames a file (atomically, within one directory). */
  rename(from: string, to: string): void;
  /** Makes `dir`'s entries durable (created, renamed and deleted names). */
  syncDir(dir: string): void;
}

class DenoFile implements BufferFile {
  /**
   * The file position after this object's last read or write (-1: unknown), so that appends
   * one after another skip the seek: one system call per frame instead of two.
   */
  #position = -1;
  constructor(readonly file: Deno.FsFile) {}
  #seek(offset: number): void {
    if (this.#position === offset) return;
    this.#position = -1;
    this.file.seekSync(offset, Deno.SeekMode.Start);
    this.#position = offset;
  }
  writeAt(offset: number, bytes: Uint8Array): void {
    this.#seek(offset);
    this.#position = -1; // unknown if a write throws half-way
    let done = 0;
    while (done < bytes.length) done += this.file.writeSync(bytes.subarray(done));
    this.#position = offset + done;
  }
  readAt(offset: number, length: number): Uint8Array {
    this.#seek(offset);
    this.#position = -1;
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = this.file.readSync(out.subarray(done));
      if (n === null || n === 0) break;
      done += n;
    }
    this.#position = offset + done;
    return done === length ? out : out.subarray(0, done);
  }
  size(): number {
    return this.file.statSync().size;
  }
  truncate(length: number): void {
    this.file.truncateSync(length);
  }
  sync(): void {
    this.file.syncDataSync();
  }
  syncInBackground(): Promise<void> {
    return this.file.syncData();
  }
  close(): void {
    this.file.close();
  }
}

/**
 * The real file system, through Deno's synchronous calls: a buffer's appends are one
 * `write(2)` each into the page cache (a few µs), so they need no round trip through the
 * event loop, and the order of operations is exactly the order of the calls.
 *
 * @example Write, sync and read back
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoBufferFs } from "./buffer_fs.ts";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   const file = denoBufferFs.open(`${dir}/a.seg`, true);
 *   file.writeAt(0, new TextEncoder().encode("hello"));
 *   file.sync();
 *   denoBufferFs.syncDir(dir);
 *   assert.equal(new TextDecoder().decode(file.readAt(1, 10)), "ello");
 *   file.close();
 *   assert.deepEqual(denoBufferFs.list(dir), ["a.seg"]);
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export const denoBufferFs: BufferFs = {
  mkdirp(dir) {
    Deno.mkdirSync(dir, { recursive: true });
  },
  list(dir) {
    return [...Deno.readDirSync(dir)].map((entry) => entry.name);
  },
  open(path, create) {
    return new DenoFile(Deno.openSync(path, { read: true, write: true, create }));
  },
  remove(path) {
    Deno.removeSync(path);
  },
  rename(from, to) {
    Deno.renameSync(from, to);
  },
  syncDir(dir) {
    const file = Deno.openSync(dir, { read: true });
    try {
      file.syncSync();
    } finally {
      file.close();
    }
  },
};

/**
 * Opens a buffer file read-only (`sluice buffer check` reads a live buffer without touching
 * it); its `writeAt`, `truncate` and `sync` throw.
 *
 * @example Read a file without opening it for writing
 * ```ts
 * import assert from "node:assert/strict";
 * import { openReadOnly } from "./buffer_fs.ts";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   Deno.writeTextFileSync(`${dir}/ledger`, "abc");
 *   const file = openReadOnly(`${dir}/ledger`);
 *   assert.equal(file.size(), 3);
 *   assert.throws(() => file.writeAt(0, new Uint8Array(1)));
 *   file.close();
 * } finally {
 *   Deno.removeSync(dir, { recursive: true });
 * }
 * ```
 */
export function openReadOnly(path: string): BufferFile {
  return new DenoFile(Deno.openSync(path, { read: true }));
}

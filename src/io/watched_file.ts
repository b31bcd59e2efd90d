/**
 * An append-only file that notices when it is moved, deleted or truncated from outside
 * (logrotate's `create` and `copytruncate` modes) and reopens, like Python's
 * `WatchedFileHandler`.
 *
 * @module
 */

import { writeAllSync } from "./write_all_sync.ts";

/** Options of a {@linkcode WatchedFile}. */
export interface WatchedFileOptions {
  /** The clock (epoch ms) that throttles checks; `Date.now` by default. */
  now?: () => number;
  /** Least time between two checks of the path, in ms (default 1000). */
  checkInterval?: number;
}

/** What a check found. */
export type WatchEvent = "reopened" | "truncated" | undefined;

/**
 * An append-mode file handle bound to a path. Before a write (at most once per
 * `checkInterval`) it compares the path's device and inode with the open handle's and
 * reopens when they differ or the path is gone; when the file shrank it resets its size.
 * A write that fails half-way is cut back, so the file never holds a torn batch.
 *
 * @example Reopen after the file is moved away
 * ```ts
 * import { WatchedFile } from "./watched_file.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * const file = new WatchedFile(`${dir}/app.log`, { checkInterval: 0 });
 * file.write(new TextEncoder().encode("one\n"));
 * Deno.renameSync(`${dir}/app.log`, `${dir}/app.log.1`);
 * file.write(new TextEncoder().encode("two\n"));
 * file.close();
 * assert.ok(Deno.readTextFileSync(`${dir}/app.log`) === "two\n");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class WatchedFile {
  /** The path the handle is bound to. */
  readonly path: string;
  readonly #now: () => number;
  readonly #interval: number;
  #file: Deno.FsFile | undefined;
  #dev = 0;
  #ino = 0;
  #size = 0;
  #nextCheck = 0;

  /** Opens (creating) `path` for appending. Throws when it cannot be opened. */
  constructor(path: string, options: WatchedFileOptions = {}) {
    this.path = path;
    this.#now = options.now ?? Date.now;
    this.#interval = options.checkInterval ?? 1000;
    this.open();
  }

  /** Bytes in the file as far as this handle knows (its size at open plus what it wrote). */
  get size(): number {
    return this.#size;
  }

  /** Whether a handle is open. */
  get isOpen(): boolean {
    return this.#file !== undefined;
  }

  /** Opens the path (creating it) if no handle is open. */
  open(): void {
    if (this.#file) return;
    const file = Deno.openSync(this.path, { append: true, create: true });
    try {
      const info = file.statSync();
      this.#dev = info.dev;
      this.#ino = info.ino ?? 0;
      this.#size = info.size;
    } catch (error) {
      file.close();
      throw error;
    }
    this.#file = file;
    this.#nextCheck = this.#now() + this.#interval;
  }

  /**
   * Takes `file`, an append handle of the file that is now at the path (the caller just
   * renamed it there) with its identity and size as `info` says, instead of opening the path:
   * an open and a stat fewer. An open handle is closed first.
   */
  adopt(file: Deno.FsFile, info: { dev: number; ino: number; size: number }): void {
    this.close();
    this.#dev = info.dev;
    this.#ino = info.ino;
    this.#size = info.size;
    this.#file = file;
    this.#nextCheck = this.#now() + this.#interval;
  }

  /** Closes the handle and opens the path again. */
  reopen(): void {
    this.close();
    this.open();
  }

  /**
   * Compares the path with the open handle now: reopens when the file was moved or
   * deleted, resets the size when it was truncated. Throws when reopening fails.
   */
  check(): WatchEvent {
    this.#nextCheck = this.#now() + this.#interval;
    if (!this.#file) {
      this.open();
      return "reopened";
    }
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(this.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      this.reopen();
      return "reopened";
    }
    if (info.dev !== this.#dev || (info.ino ?? 0) !== this.#ino) {
      this.reopen();
      return "reopened";
    }
    if (info.size < this.#size) {
      this.#size = info.size;
      return "truncated";
    }
    // Someone else appends too: keep the size honest for rotation decisions.
    this.#size = info.size;
    return undefined;
  }

  /** Runs {@linkcode WatchedFile.check} when the check interval has passed. */
  maybeCheck(): WatchEvent {
    return this.#now() >= this.#nextCheck ? this.check() : undefined;
  }

  /**
   * Appends `bytes` in one write (looping over partial writes). When the write fails the
   * file is cut back to its previous length, then the error is rethrown.
   */
  write(bytes: Uint8Array): void {
    this.maybeCheck();
    if (!this.#file) this.open();
    const file = this.#file!;
    if (bytes.length === 0) return;
    const before = this.#size;
    let written = 0;
    try {
      writeAllSync({
        writeSync: (p) => {
          const n = file.writeSync(p);
          written += n;
          return n;
        },
      }, bytes);
    } catch (error) {
      if (written > 0) {
        try {
          file.truncateSync(before);
        } catch {
          // Cannot cut back: the torn tail stays; the caller counts the failure.
        }
      }
      throw error;
    }
    this.#size = before + bytes.length;
  }

  /** fsyncs the open handle. */
  sync(): void {
    this.#file?.syncSync();
  }

  /** Closes the handle (idempotent). */
  close(): void {
    const file = this.#file;
    this.#file = undefined;
    file?.close();
  }
}

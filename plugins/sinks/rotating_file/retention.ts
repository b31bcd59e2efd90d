/**
 * The rotated files of one live log file: their Python-compatible names, discovery on
 * startup, shifting, and which ones retention removes.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * How rotated files are named, for a live file `app.log`:
 *
 * - `size`: `app.log.1` (newest) … `app.log.N`, shifted on each rotation (Python's
 *   `RotatingFileHandler`).
 * - `time`: `app.log.<suffix>` with the suffix of the period, such as `app.log.2026-11-24`
 *   (Python's `TimedRotatingFileHandler`); a name that is already taken gets `.1`, `.2` …
 *   appended instead of overwriting it.
 * - `both`: `app.log.<suffix>.<n>`, numbered from 1 in the order written within a period.
 *
 * Compressed files carry a further `.gz`.
 */
export type NamingMode = "size" | "time" | "both";

/** One rotated file. */
export interface Backup {
  /** The shifted number (`size`), or the number after the suffix (0 = none). */
  index: number;
  /** The time suffix (`time`, `both`), `""` for `size`. */
  stamp: string;
  /** Whether the file is gzip-compressed (name ends in `.gz`). */
  gz: boolean;
  /** Set once the file was removed, so that a pending compression drops its output. */
  removed: boolean;
}

/**
 * The rotated files next to a live file, newest first.
 *
 * @example Size naming: rotate twice, then keep one
 * ```ts
 * import { BackupSet } from "./retention.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * const set = new BackupSet(`${dir}/app.log`, "size");
 * Deno.writeTextFileSync(`${dir}/app.log`, "a\n");
 * set.rotateIn();
 * Deno.writeTextFileSync(`${dir}/app.log`, "b\n");
 * set.rotateIn();
 * assert.ok(Deno.readTextFileSync(`${dir}/app.log.2`) === "a\n");
 * for (const old of set.expired(1)) set.remove(old);
 * assert.ok(set.list.length === 1 && set.pathOf(set.list[0]!).endsWith("app.log.1"));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class BackupSet {
  /** The live file's path. */
  readonly livePath: string;
  /** The naming mode. */
  readonly mode: NamingMode;
  readonly #dir: string;
  readonly #base: string;
  readonly #name: RegExp;
  readonly #onForeign: (path: string) => void;
  #list: Backup[] = [];

  /**
   * `stampPattern` is the regular expression source of a time suffix (time modes);
   * `onForeign(path)` hears of each entry named like a backup that this sink did not write (a
   * directory, a link …), which is left alone and skipped.
   */
  constructor(
    livePath: string,
    mode: NamingMode,
    stampPattern = "\\d{4}-\\d{2}-\\d{2}",
    onForeign: (path: string) => void = () => {},
  ) {
    this.#onForeign = onForeign;
    this.livePath = livePath;
    this.mode = mode;
    this.#dir = dirname(livePath);
    this.#base = basename(livePath);
    const base = escape(this.#base);
    this.#name = mode === "size"
      ? new RegExp(`^${base}\\.(\\d+)(\\.gz)?$`)
      : new RegExp(`^${base}\\.(${stampPattern})(?:\\.(\\d+))?(\\.gz)?$`);
  }

  /** The rotated files, newest first. */
  get list(): readonly Backup[] {
    return this.#list;
  }

  /** The current path of a backup. */
  pathOf(backup: Backup): string {
    const middle = this.mode === "size"
      ? String(backup.index)
      : backup.index > 0
      ? `${backup.stamp}.${backup.index}`
      : backup.stamp;
    return join(this.#dir, `${this.#base}.${middle}${backup.gz ? ".gz" : ""}`);
  }

  /**
   * Reads the directory: finds the rotated files and removes plain files whose compressed twin
   * is complete (an interrupted compression). Returns the paths removed. (Temporary files live
   * in the sink's work directory, `WorkDir`.)
   */
  discover(): string[] {
    const found = new Map<string, Backup>();
    const removed: string[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.#dir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        this.#list = [];
        return removed;
      }
      throw error;
    }
    for (const entry of entries) {
      const m = this.#name.exec(entry.name);
      if (!m) continue;
      if (!entry.isFile) {
        this.#onForeign(join(this.#dir, entry.name));
        continue;
      }
      const backup: Backup = this.mode === "size"
        ? { index: Number(m[1]), stamp: "", gz: m[2] !== undefined, removed: false }
        : { index: Number(m[2] ?? 0), stamp: m[1]!, gz: m[3] !== undefined, removed: false };
      if (this.mode === "size" && backup.index < 1) continue;
      const key = `${backup.stamp}\u0000${backup.index}`;
      const twin = found.get(key);
      if (twin) {
        // Both app.log.1 and app.log.1.gz: the .gz is renamed into place only when complete.
        const plain = twin.gz ? backup : twin;
        const path = this.pathOf(plain);
        Deno.removeSync(path);
        removed.push(path);
        found.set(key, twin.gz ? twin : backup);
        continue;
      }
      found.set(key, backup);
    }
    this.#list = [...found.values()];
    this.#sort();
    return removed;
  }

  /**
   * Renames the live file into the set as the newest backup (shifting the others in `size`
   * naming, choosing a free name in the time namings) and returns it. On a failure the set
   * still matches the disk and the error is rethrown.
   */
  rotateIn(stamp = ""): Backup {
    if (this.mode === "size") {
      // Highest first, so that no rename overwrites a file still to be moved.
      // Highest first, each to the next number nobody else holds: the higher ones have moved
      // on already, so whatever is there is not ours (a directory, say) and is skipped.
      for (let i = this.#list.length - 1; i >= 0; i--) {
        const backup = this.#list[i]!;
        const from = this.pathOf(backup);
        const index = this.#freeIndex(backup.index + 1);
        Deno.renameSync(from, this.pathOf({ ...backup, index }));
        backup.index = index;
      }
      const backup: Backup = { index: this.#freeIndex(1), stamp: "", gz: false, removed: false };
      Deno.renameSync(this.livePath, this.pathOf(backup));
      this.#list.unshift(backup);
      return backup;
    }
    let index = this.mode === "both" ? 1 : 0;
    for (const b of this.#list) if (b.stamp === stamp && b.index >= index) index = b.index + 1;
    // Never overwrite a file we did not discover (another process's, or a copy). `existsSync`
    // answers without an exception: a failing `Deno.lstatSync` spends about 10 µs building
    // its `NotFound`. It follows links, so a dangling one counts as free (no data is lost).
    for (;; index++) {
      const plain = this.pathOf({ index, stamp, gz: false, removed: false });
      if (existsSync(plain)) this.#onForeign(plain);
      else if (existsSync(`${plain}.gz`)) this.#onForeign(`${plain}.gz`);
      else break;
    }
    const backup: Backup = { index, stamp, gz: false, removed: false };
    Deno.renameSync(this.livePath, this.pathOf(backup));
    this.#list.push(backup);
    this.#sort();
    return backup;
  }

  /** The first size-naming number from `index` on whose plain and `.gz` names are free. */
  #freeIndex(index: number): number {
    for (;; index++) {
      const plain = this.pathOf({ index, stamp: "", gz: false, removed: false });
      if (existsSync(plain)) this.#onForeign(plain);
      else if (existsSync(`${plain}.gz`)) this.#onForeign(`${plain}.gz`);
      else return index;
    }
  }

  /**
   * The backups retention removes, oldest first: those beyond the newest `keep`, and those
   * last modified before `notBefore` (epoch ms) when given.
   */
  expired(keep: number, notBefore?: number): Backup[] {
    const out: Backup[] = [];
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const backup = this.#list[i]!;
      if (i >= keep) {
        out.push(backup);
        continue;
      }
      if (notBefore === undefined) continue;
      let mtime: number | undefined;
      try {
        mtime = Deno.statSync(this.pathOf(backup)).mtime?.getTime();
      } catch {
        continue;
      }
      if (mtime !== undefined && mtime < notBefore) out.push(backup);
    }
    return out;
  }

  /**
   * Deletes a backup (a file already gone counts as deleted); rethrows other errors. With
   * `discard`, the file is handed to it instead (a trash that frees the name at once and
   * deletes in the background).
   */
  remove(backup: Backup, discard?: (path: string) => void): void {
    try {
      if (discard) discard(this.pathOf(backup));
      else Deno.removeSync(this.pathOf(backup));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    backup.removed = true;
    const i = this.#list.indexOf(backup);
    if (i >= 0) this.#list.splice(i, 1);
  }

  /**
   * Puts a finished compressed copy in place of a backup: renames `tempPath` to the
   * backup's `.gz` name, then deletes the plain file (through `discard` when given, as
   * `remove()` does).
   */
  adoptCompressed(backup: Backup, tempPath: string, discard?: (path: string) => void): void {
    const plain = this.pathOf(backup);
    Deno.renameSync(tempPath, this.pathOf({ ...backup, gz: true }));
    backup.gz = true;
    try {
      if (discard) discard(plain);
      else Deno.removeSync(plain);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  #sort(): void {
    if (this.mode === "size") this.#list.sort((a, b) => a.index - b.index);
    else {
      this.#list.sort((a, b) =>
        a.stamp === b.stamp ? b.index - a.index : a.stamp < b.stamp ? 1 : -1
      );
    }
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

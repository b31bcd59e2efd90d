/**
 * The rotated files of one live log file: their Python-compatible names, discovery on
 * startup, shifting, and which ones retention removes.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { BackupJournal, type FileIdentity } from "./backup_journal.ts";

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
  /** The file's identity, as recorded in the journal. */
  identity: FileIdentity;
}

/** Options of a {@linkcode BackupSet}. */
export interface BackupSetOptions {
  /** The regular expression source of a time suffix (time modes). */
  stampPattern?: string;
  /**
   * Hears of each entry named like a backup that this sink did not write (another program's
   * file, a directory, a link, a backup whose identity changed), which is left alone.
   */
  onForeign?: (path: string) => void;
  /** The record of the backups written; one of its own (made on first use) by default. */
  journal?: BackupJournal;
}

/**
 * The rotated files next to a live file that this sink wrote, newest first: a file is one of
 * them only when its {@linkcode BackupJournal} records its identity. Each is checked again
 * just before it is renamed, compressed or deleted; one whose identity changed meanwhile
 * (replaced, appended to, touched) is left alone and forgotten.
 *
 * @example Size naming: rotate twice, then keep one
 * ```ts
 * import { BackupSet } from "./retention.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * const set = new BackupSet(`${dir}/app.log`, "size");
 * set.discover();
 * Deno.writeTextFileSync(`${dir}/app.log`, "a\n");
 * set.rotateIn();
 * Deno.writeTextFileSync(`${dir}/app.log`, "b\n");
 * set.rotateIn();
 * assert.ok(Deno.readTextFileSync(`${dir}/app.log.2`) === "a\n");
 * for (const old of set.expired(1)) set.remove(old);
 * assert.ok(set.list.length === 1 && set.pathOf(set.list[0]!).endsWith("app.log.1"));
 * set.close();
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
  #onForeign: (path: string) => void;
  readonly #journal: BackupJournal;
  #list: Backup[] = [];
  #discovered = false;
  /** How many sinks share this set (`BackupSet.open()`); 0 when it is not shared. */
  #refs = 0;
  #key = "";

  /**
   * The set of `livePath` that a sink of this process has open with the same naming, shared
   * (one list, one journal; `onForeign` becomes the newest sink's), or a new one. During a
   * reload the old pipeline's sink drains, still rotating and compressing, as the new one
   * starts: each must see what the other did. `close()` lets go; the last one closes.
   */
  static open(livePath: string, mode: NamingMode, options: BackupSetOptions = {}): BackupSet {
    const key = `${mode}\u0000${options.stampPattern ?? ""}`;
    const open = OPEN.get(livePath);
    if (open && open.#key === key) {
      open.#refs++;
      if (options.onForeign) open.#onForeign = options.onForeign;
      return open;
    }
    const set = new BackupSet(livePath, mode, options);
    if (!open) {
      set.#refs = 1;
      set.#key = key;
      OPEN.set(livePath, set);
    }
    return set;
  }

  /** The backups of `livePath`, named as `mode` says; none is known before `discover()`. */
  constructor(livePath: string, mode: NamingMode, options: BackupSetOptions = {}) {
    const stampPattern = options.stampPattern ?? "\\d{4}-\\d{2}-\\d{2}";
    this.#onForeign = options.onForeign ?? (() => {});
    this.#journal = options.journal ?? new BackupJournal(livePath);
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

  /** The current path of a backup (or of the name one would have). */
  pathOf(backup: Pick<Backup, "index" | "stamp" | "gz">): string {
    const middle = this.mode === "size"
      ? String(backup.index)
      : backup.index > 0
      ? `${backup.stamp}.${backup.index}`
      : backup.stamp;
    return join(this.#dir, `${this.#base}.${middle}${backup.gz ? ".gz" : ""}`);
  }

  /**
   * Reads the journal and the directory: finds the rotated files it records and removes
   * plain files whose compressed twin is complete (an interrupted compression); every other
   * entry of a backup's name is reported to `onForeign` and left alone. Returns the paths
   * removed. (Temporary files live in the sink's work directory, `WorkDir`.)
   */
  discover(): string[] {
    if (this.#discovered && this.#refs > 1) return []; // shared, and up to date
    this.#discovered = true;
    const found = new Map<string, Backup>();
    const removed: string[] = [];
    const journal = this.#journal;
    journal.load();
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.#dir)];
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      entries = [];
    }
    for (const entry of entries) {
      const m = this.#name.exec(entry.name);
      if (!m || (this.mode === "size" && Number(m[1]) < 1)) continue;
      const path = join(this.#dir, entry.name);
      const identity = entry.isFile ? BackupJournal.identityOf(path) : undefined;
      if (identity === undefined || !journal.knows(identity)) {
        this.#onForeign(path);
        continue;
      }
      const backup: Backup = this.mode === "size"
        ? { index: Number(m[1]), stamp: "", gz: m[2] !== undefined, removed: false, identity }
        : {
          index: Number(m[2] ?? 0),
          stamp: m[1]!,
          gz: m[3] !== undefined,
          removed: false,
          identity,
        };
      const key = `${backup.stamp}\u0000${backup.index}`;
      const twin = found.get(key);
      if (twin) {
        // Both app.log.1 and app.log.1.gz: the .gz is recorded only once in place, complete.
        const plain = twin.gz ? backup : twin;
        const path = this.pathOf(plain);
        journal.record([], [plain.identity]);
        Deno.removeSync(path);
        removed.push(path);
        found.set(key, twin.gz ? twin : backup);
        continue;
      }
      found.set(key, backup);
    }
    this.#list = [...found.values()];
    this.#sort();
    journal.settle(this.#list.map((b) => this.#entry(b)));
    return removed;
  }

  /**
   * Renames the live file into the set as the newest backup (shifting the others in `size`
   * naming, choosing a free name in the time namings), records it and returns it. A backup
   * that is no longer the file at its name is left where it is and forgotten. On a failure
   * the set still matches the disk and the error is rethrown.
   */
  rotateIn(stamp = ""): Backup {
    let backup: Backup;
    if (this.mode === "size") {
      // Highest first, each to the next number nobody else holds: the higher ones have moved
      // on already, so whatever is there is not ours (a directory, say) and is skipped.
      for (let i = this.#list.length - 1; i >= 0; i--) {
        const old = this.#list[i]!;
        if (!this.verify(old)) continue;
        const from = this.pathOf(old);
        const index = this.#freeIndex(old.index + 1);
        Deno.renameSync(from, this.pathOf({ ...old, index }));
        old.index = index;
      }
      backup = this.#moveLive(this.#freeIndex(1), "");
      this.#list.unshift(backup);
    } else {
      let index = this.mode === "both" ? 1 : 0;
      for (const b of this.#list) if (b.stamp === stamp && b.index >= index) index = b.index + 1;
      // Never overwrite a file we did not discover (another process's, or a copy). `existsSync`
      // answers without an exception: a failing `Deno.lstatSync` spends about 10 µs building
      // its `NotFound`. It follows links, so a dangling one counts as free (no data is lost).
      for (;; index++) {
        const plain = this.pathOf({ index, stamp, gz: false });
        if (existsSync(plain)) this.#onForeign(plain);
        else if (existsSync(`${plain}.gz`)) this.#onForeign(`${plain}.gz`);
        else break;
      }
      backup = this.#moveLive(index, stamp);
      this.#list.push(backup);
      this.#sort();
    }
    this.#journal.record([this.#entry(backup)], []);
    return backup;
  }

  /**
   * Whether `backup` is still the file at its name (one `lstat`); when not, it is forgotten
   * (removed from the set and the journal, never deleted), and what holds its name instead is
   * reported as foreign.
   */
  verify(backup: Backup): boolean {
    const path = this.pathOf(backup);
    const now = BackupJournal.identityOf(path);
    if (now !== undefined && BackupJournal.same(now, backup.identity)) return true;
    this.#drop(backup);
    this.#journal.forget(backup.identity);
    if (now !== undefined || existsSync(path)) this.#onForeign(path);
    return false;
  }

  /**
   * The backups retention removes, oldest first: those beyond the newest `keep`, and those
   * last modified before `notBefore` (epoch ms) when given.
   */
  expired(keep: number, notBefore?: number): Backup[] {
    const out: Backup[] = [];
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const backup = this.#list[i]!;
      if (i >= keep || (notBefore !== undefined && backup.identity.mtime < notBefore)) {
        out.push(backup);
      }
    }
    return out;
  }

  /**
   * Deletes a backup when it is still the file at its name (else it is forgotten and left
   * alone: returns false); the deletion is recorded first, and a file already gone counts as
   * deleted. With `discard`, the file is handed to it instead (a trash that frees the name at
   * once and deletes in the background). Rethrows other errors, and a
   * {@linkcode BackupJournalError} when the deletion cannot be recorded (nothing is deleted).
   */
  remove(backup: Backup, discard?: (path: string) => void): boolean {
    if (!this.verify(backup)) return false;
    this.#journal.record([], [backup.identity]);
    try {
      if (discard) discard(this.pathOf(backup));
      else Deno.removeSync(this.pathOf(backup));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    this.#drop(backup);
    return true;
  }

  /**
   * Puts a finished compressed copy in place of a backup when that is still the file at its
   * name and the `.gz` name is free: renames `tempPath` to the backup's `.gz` name, records
   * it, then deletes the plain file (through `discard` when given, as `remove()` does).
   * Returns false, leaving `tempPath` to the caller, when it was not put in place.
   */
  adoptCompressed(backup: Backup, tempPath: string, discard?: (path: string) => void): boolean {
    if (!this.verify(backup)) return false;
    const plain = this.pathOf(backup);
    const gzPath = this.pathOf({ ...backup, gz: true });
    if (existsSync(gzPath)) {
      this.#onForeign(gzPath);
      return false;
    }
    Deno.renameSync(tempPath, gzPath);
    const plainIdentity = backup.identity;
    backup.gz = true;
    backup.identity = this.#identityOf(gzPath);
    this.#journal.record([this.#entry(backup)], [plainIdentity]);
    try {
      if (discard) discard(plain);
      else Deno.removeSync(plain);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return true;
  }

  /** Closes the journal (when the last sink sharing the set lets go). */
  close(): void {
    if (this.#refs > 0) {
      if (--this.#refs > 0) return;
      if (OPEN.get(this.livePath) === this) OPEN.delete(this.livePath);
    }
    this.#journal.close();
  }

  /** Renames the live file to backup name `index`/`stamp` (not in the set yet). */
  #moveLive(index: number, stamp: string): Backup {
    const path = this.pathOf({ index, stamp, gz: false });
    Deno.renameSync(this.livePath, path);
    return { index, stamp, gz: false, removed: false, identity: this.#identityOf(path) };
  }

  /** The identity of a file this set just put in place; throws if it cannot be read. */
  #identityOf(path: string): FileIdentity {
    const identity = BackupJournal.identityOf(path);
    if (identity === undefined) throw new Deno.errors.NotFound(`${path} vanished`);
    return identity;
  }

  #entry(backup: Backup): { name: string; identity: FileIdentity } {
    return { name: basename(this.pathOf(backup)), identity: backup.identity };
  }

  #drop(backup: Backup): void {
    backup.removed = true;
    const i = this.#list.indexOf(backup);
    if (i >= 0) this.#list.splice(i, 1);
  }

  /** The first size-naming number from `index` on whose plain and `.gz` names are free. */
  #freeIndex(index: number): number {
    for (;; index++) {
      const plain = this.pathOf({ index, stamp: "", gz: false });
      if (existsSync(plain)) this.#onForeign(plain);
      else if (existsSync(`${plain}.gz`)) this.#onForeign(`${plain}.gz`);
      else return index;
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

/** Sets shared by the sinks of this process, by live path (`BackupSet.open()`). */
const OPEN = new Map<string, BackupSet>();

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

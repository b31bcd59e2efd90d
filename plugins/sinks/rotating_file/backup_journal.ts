/**
 * The record a rotating file sink keeps of the backups it wrote, so that retention and
 * rotation touch no file of another program's that happens to carry a backup's name.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { WorkDir } from "./work_dir.ts";

/**
 * What tells a file the sink wrote from another one at the same name: its inode number, size
 * and modification time, which a rename keeps and a replacement, a copy, an append or a
 * `touch` change. The device is recorded too but not compared: on btrfs and overlay file
 * systems it changes from one mount to the next, and every backup lives in the live file's
 * directory, on one file system.
 */
export interface FileIdentity {
  /** The device number (recorded, not compared). */
  dev: number;
  /** The inode number. */
  ino: number;
  /** Bytes. */
  size: number;
  /** Last modification, epoch ms (0 where the platform has none). */
  mtime: number;
}

/** Options of a {@linkcode BackupJournal}. */
export interface BackupJournalOptions {
  /** Where rewrites make their temporary file; the journal makes its own when not given. */
  work?: WorkDir;
  /** Hears of each failure to keep the record (the sink counts and says it). */
  onError?: (error: unknown) => void;
}

/** A journal larger than this is not one the sink wrote, and is not read. */
const MAX_BYTES = 64 * 1024 * 1024;
/**
 * Lines appended before the journal is compacted (at least; four per backup known when
 * more). An append costs about 5 µs; the compaction replaces the file by a rename, which on
 * ext4 flushes the new file first (about 2.5 ms measured on this machine's disk, against
 * 30 µs for a rename onto a free name), so it is kept rare: one per 500 rotations or so.
 */
const COMPACT_LINES = 1024;
const encoder = new TextEncoder();
const LINE = /^([+-]) (\d+) (\d+) (\d+) (-?\d+) ("(?:[^"\\]|\\.)*")$/;

/** One backup the journal knows: its name when recorded, and its identity. */
interface Entry {
  name: string;
  identity: FileIdentity;
}

/** Thrown when a removal could not be recorded: the file must then not be deleted. */
export class BackupJournalError extends Error {
  /** Names the journal and what failed. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BackupJournalError";
  }
}

/**
 * The hidden file `.app.log.sluice-backups` next to a live file `app.log`: a header naming
 * the live file, then one line per backup written (`+`) or deleted (`-`) with its identity.
 * A regular file named like a backup is the sink's own only when its identity is recorded
 * there; any other entry of such a name (another program's file, one left by a run before
 * Sluice kept this record, one whose identity changed) is left alone.
 *
 * The record errs towards knowing less, never more: an addition is appended after the file
 * is in place (a crash in between leaves an own file unknown, so left alone), a removal
 * before the file is deleted (if it cannot be recorded, and the journal cannot be removed
 * either, the file is not deleted), a journal with a line it cannot read vouches for
 * nothing, and one whose header is not this code's is another program's file, never
 * written to. Compaction writes the whole record to a temporary file in the sink's work
 * directory and renames it over the journal, atomically; a journal that vanished is made
 * again in full on the next change. Nothing is fsynced: after a power cut the record may be
 * shorter or unreadable, which again only makes own files unknown.
 *
 * @example A backup is known by its identity, a replacement at its name is not
 * ```ts
 * import { BackupJournal } from "./backup_journal.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * const journal = new BackupJournal(`${dir}/app.log`);
 * journal.load();
 * Deno.writeTextFileSync(`${dir}/app.log.1`, "ours\n");
 * const ours = BackupJournal.identityOf(`${dir}/app.log.1`)!;
 * journal.record([{ name: "app.log.1", identity: ours }], []);
 * journal.close();
 * const next = new BackupJournal(`${dir}/app.log`);
 * assert.ok(next.load() && next.knows(ours));
 * Deno.removeSync(`${dir}/app.log.1`);
 * Deno.writeTextFileSync(`${dir}/app.log.1`, "theirs, longer\n");
 * assert.ok(!next.knows(BackupJournal.identityOf(`${dir}/app.log.1`)!));
 * next.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class BackupJournal {
  /** The journal's path. */
  readonly path: string;
  readonly #header: string;
  readonly #work: WorkDir;
  readonly #ownWork: boolean;
  readonly #onError: (error: unknown) => void;
  /**
   * `unloaded` (before `load()`: nothing is written), `absent` (no file: made on the next
   * change), `valid` (ours, appended to), `damaged` (ours, rewritten on the next change) or
   * `foreign` (not ours: never written).
   */
  #state: "unloaded" | "absent" | "valid" | "damaged" | "foreign" = "unloaded";
  #file: Deno.FsFile | undefined;
  readonly #entries = new Map<number, Entry>();
  #lines = 0;
  #compactAt = COMPACT_LINES;
  #tempSeq = 0;

  /** The journal of the backups of `livePath`; nothing is read or written until `load()`. */
  constructor(livePath: string, options: BackupJournalOptions = {}) {
    const base = basename(livePath);
    this.path = join(dirname(livePath), `.${base}.sluice-backups`);
    this.#header = `Sluice rotating_file: the backups of ${JSON.stringify(base)} it wrote, v1\n`;
    this.#ownWork = options.work === undefined;
    this.#work = options.work ?? new WorkDir(livePath);
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * The identity of the regular file at `path` (not following a link); `undefined` when
   * there is none or it cannot be read.
   */
  static identityOf(path: string): FileIdentity | undefined {
    try {
      const info = Deno.lstatSync(path);
      if (!info.isFile) return undefined;
      return {
        dev: info.dev,
        ino: info.ino ?? 0,
        size: info.size,
        mtime: info.mtime?.getTime() ?? 0,
      };
    } catch {
      return undefined;
    }
  }

  /** Whether two identities are one file's (the device aside). */
  static same(a: FileIdentity, b: FileIdentity): boolean {
    return a.ino === b.ino && a.size === b.size && a.mtime === b.mtime;
  }

  /**
   * Reads the journal. Returns whether it was read: `false` when it is missing (nothing is
   * known yet), damaged (nothing is trusted; it is rewritten on the next change) or not a
   * journal of this code's (nothing is known, and it is never written to).
   */
  load(): boolean {
    this.#closeFile();
    this.#entries.clear();
    this.#lines = 0;
    let text: string;
    try {
      const info = Deno.lstatSync(this.path);
      if (!info.isFile || info.size > MAX_BYTES) return this.#foreign();
      text = new TextDecoder("utf-8", { fatal: true }).decode(Deno.readFileSync(this.path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        this.#state = "absent";
        return false;
      }
      return this.#foreign(error);
    }
    // Empty: made and not yet written when a run stopped (or the disk was full); no loss.
    if (text === "") return this.#damaged();
    if (!text.startsWith(this.#header)) return this.#foreign();
    const lines = text.slice(this.#header.length).split("\n");
    if (lines.pop() !== "") return this.#damaged(); // the last line is not whole
    for (const line of lines) {
      const m = LINE.exec(line);
      if (!m) return this.#damaged();
      const [dev, ino, size, mtime] = [m[2], m[3], m[4], m[5]].map(Number) as [
        number,
        number,
        number,
        number,
      ];
      const identity = { dev, ino, size, mtime };
      if (m[1] === "+") this.#entries.set(identity.ino, { name: JSON.parse(m[6]!), identity });
      else this.#entries.delete(identity.ino);
    }
    this.#lines = lines.length;
    this.#state = "valid";
    return true;
  }

  /** Whether `identity` is a backup the journal records. */
  knows(identity: FileIdentity): boolean {
    const entry = this.#entries.get(identity.ino);
    return entry !== undefined && BackupJournal.same(entry.identity, identity);
  }

  /**
   * After discovery: the backups found (each known) are the whole record. Rewrites the
   * journal when it recorded others (files gone since, whose inodes another file may get),
   * is damaged or has grown; reports and goes on when that fails.
   */
  settle(found: readonly Entry[]): void {
    const stale = this.#entries.size - found.length;
    this.#entries.clear();
    for (const entry of found) this.#entries.set(entry.identity.ino, entry);
    this.#compactAt = this.#limit();
    const state = this.#state;
    if (state === "damaged" || (state === "valid" && (stale > 0 || this.#lines > this.#limit()))) {
      try {
        this.#rewrite();
      } catch (error) {
        this.#onError(error);
        this.#lose(false);
      }
    }
  }

  /**
   * Records backups put in place (`added`) and about to be deleted (`removed`) in one
   * append. A failure is reported, and the journal removed so that it lists nothing wrong;
   * throws {@linkcode BackupJournalError} only when that fails too and a removal is involved:
   * the caller must then not delete those files.
   */
  record(added: readonly Entry[], removed: readonly FileIdentity[]): void {
    for (const identity of removed) this.#entries.delete(identity.ino);
    for (const entry of added) this.#entries.set(entry.identity.ino, entry);
    const state = this.#state;
    if (state === "unloaded" || state === "foreign") return;
    if (added.length === 0 && removed.length === 0) return;
    try {
      if (state !== "valid") {
        this.#rewrite(state === "absent");
        return;
      }
      let text = "";
      for (const identity of removed) text += line("-", "", identity);
      for (const entry of added) text += line("+", entry.name, entry.identity);
      this.#file ??= Deno.openSync(this.path, { append: true });
      writeAll(this.#file, encoder.encode(text));
      this.#lines += removed.length + added.length;
    } catch (error) {
      this.#onError(error);
      if (this.#state === "foreign") return; // made by someone else meanwhile: ours is on no disk
      if (!this.#lose(removed.length > 0)) {
        throw new BackupJournalError(
          `Cannot record the deletion of a backup in ${this.path}, nor remove that record`,
          { cause: error },
        );
      }
      return;
    }
    if (this.#lines > this.#compactAt) this.#compact();
  }

  /** Forgets a backup that is no longer the file at its name (never throws). */
  forget(identity: FileIdentity): void {
    try {
      this.record([], [identity]);
    } catch {
      // Reported by record(); nothing is deleted.
    }
  }

  /** Closes the journal (and the work directory it made for itself). */
  close(): void {
    this.#closeFile();
    if (this.#ownWork) this.#work.close();
  }

  #foreign(cause?: unknown): false {
    this.#state = "foreign";
    this.#onError(
      new Error(`${this.path} is not a record of Sluice's, and is left alone`, { cause }),
    );
    return false;
  }

  #damaged(): false {
    this.#entries.clear();
    this.#state = "damaged";
    return false;
  }

  #limit(): number {
    return Math.max(COMPACT_LINES, 4 * this.#entries.size);
  }

  #compact(): void {
    try {
      this.#rewrite();
      this.#compactAt = this.#limit();
    } catch (error) {
      // Appending goes on; the next try waits for as many lines again.
      this.#onError(error);
      this.#compactAt = this.#lines + this.#limit();
    }
  }

  /**
   * Writes the whole record: in place when there is no journal (`fresh`: made with
   * `createNew`, so that nobody else's file is taken; throws on failure, leaving it to the
   * caller to remove what was made), else to a temporary file renamed over the journal
   * (throws on failure, leaving the journal as it was).
   */
  #rewrite(fresh = false): void {
    let text = this.#header;
    for (const entry of this.#entries.values()) text += line("+", entry.name, entry.identity);
    let bytes = encoder.encode(text);
    this.#closeFile();
    if (fresh) {
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(this.path, { append: true, createNew: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        // Made meanwhile: by another sink of this process writing the same file (during a
        // reload, the old one drains as the new one starts), whose lines ours join; or by
        // another program, whose file is left alone.
        if (!this.#isRecord()) {
          this.#state = "foreign";
          throw error;
        }
        file = Deno.openSync(this.path, { append: true });
        bytes = bytes.subarray(encoder.encode(this.#header).length);
      }
      // A failure leaves it half written: record() then removes it.
      this.#file = file;
      writeAll(file, bytes);
    } else {
      try {
        const temp = this.#work.entry(`backups-${++this.#tempSeq}`);
        try {
          Deno.writeFileSync(temp, bytes, { createNew: true });
          Deno.renameSync(temp, this.path);
        } catch (error) {
          try {
            Deno.removeSync(temp);
          } catch {
            // Not made.
          }
          throw error;
        }
      } finally {
        if (this.#ownWork) this.#work.close(); // made for this rewrite only
      }
    }
    this.#state = "valid";
    this.#lines = this.#entries.size;
  }

  /**
   * After a failed write: removes the journal (which may now miss a removal), so that it
   * lists nothing wrong; it is made again in full on the next change. Returns false when it
   * cannot be removed and `removal` is at stake.
   */
  #lose(removal: boolean): boolean {
    this.#closeFile();
    try {
      // Only a file: what replaced the journal meanwhile (a directory, say) is not ours.
      if (!Deno.lstatSync(this.path).isFile) throw new Deno.errors.AlreadyExists(this.path);
      Deno.removeSync(this.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#state = "damaged";
        return !removal;
      }
    }
    this.#state = "absent";
    return true;
  }

  /** Whether the file at the journal's path is a regular file that starts as ours do. */
  #isRecord(): boolean {
    try {
      if (!Deno.lstatSync(this.path).isFile) return false;
      const file = Deno.openSync(this.path, { read: true });
      try {
        const head = new Uint8Array(this.#header.length * 4);
        const n = file.readSync(head) ?? 0;
        return new TextDecoder().decode(head.subarray(0, n)).startsWith(this.#header);
      } finally {
        file.close();
      }
    } catch {
      return false;
    }
  }

  #closeFile(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

function line(kind: "+" | "-", name: string, id: FileIdentity): string {
  return `${kind} ${id.dev} ${id.ino} ${id.size} ${id.mtime} ${JSON.stringify(name)}\n`;
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
}

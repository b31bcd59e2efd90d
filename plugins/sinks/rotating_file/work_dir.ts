/**
 * The hidden directory a rotating file sink keeps its temporary files in, and how the sink
 * tells its own leftovers from another program's entries.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/** The file in a work directory that says whose it is. */
const MARKER = "owner";
/**
 * The file a run holds an exclusive lock on (flock) for as long as its work directory is
 * open: the kernel lets go of it when the process ends, even by SIGKILL, so a sweep tells a
 * crashed run's directory (lock free) from a live one's (held). It holds the run's pid.
 */
const LOCK = "lock";
/** A lock file longer than this holds no pid of ours. */
const LOCK_MAX_BYTES = 64;
/** A marker longer than this is not one we wrote (and is not read whole). */
const MARKER_MAX_BYTES = 4096;
/** Names a sink gives its temporary files inside its work directory. */
const FILE_NAME = /^(?:next|compress|backups)-\d+$/;
/** Names of its trash batch directories there. */
const BATCH_NAME = /^delete-\d+$/;
/**
 * Work directories of this process's sinks still open: a reload starts the new pipeline's
 * sink while the old one drains (its compression may still be writing), and the new sink's
 * sweep must not take the old one's files.
 */
const OPEN = new Set<string>();

/** Another process's run whose work directory for the same live file is locked (live). */
export interface LiveRun {
  /** Its work directory. */
  path: string;
  /** Its process id, from its lock file; `undefined` when that cannot be read. */
  pid: number | undefined;
}

/**
 * One run's work directory next to a live file `app.log`: `.app.log.sluice-<16 hex>.tmp`,
 * with a random part chosen per run and a marker file naming the live file and that part.
 * The sink writes its temporary files only inside it (the next live file made ahead, a
 * compression in progress, trash batches, the record of its backups being rewritten), so
 * no name it deletes is one another program could have picked for a file of its own next to
 * the logs. The directory is made on first use (the sink makes it at start-up, `claim()`) and
 * removed by `close()`; after a crash the next start's `sweep()` recognises it by its marker,
 * which only this code writes, and removes what it holds of the sink's own naming (never the
 * directory of a sink still open in this process, as during a reload, nor one whose lock
 * another live process holds). A directory without that marker, whatever its name and
 * contents, is never touched.
 *
 * Each open work directory holds a lock file, `lock`, locked exclusively (`flock`) for the
 * life of the run and made before the marker, so a marked directory whose lock cannot be
 * taken belongs to a live run; the kernel releases the lock when the process dies, SIGKILL
 * included, and the next sweep takes it. `claim()` makes the directory at start-up and
 * names another process's live run on the same file. A marked directory without a lock
 * file was left by a version before locks, and is swept as before.
 *
 * @example A run's temporary file, left by a crash, removed by the next start
 * ```ts
 * import { WorkDir } from "./work_dir.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * const crashed = new WorkDir(`${dir}/app.log`);
 * Deno.writeTextFileSync(crashed.entry("next-1"), "");
 * crashed.abandon();
 * Deno.mkdirSync(`${dir}/.app.log.sluice-0000000000000000.tmp`); // someone else's
 * Deno.writeTextFileSync(`${dir}/.app.log.sluice-0000000000000000.tmp/next-1`, "theirs");
 * const next = new WorkDir(`${dir}/app.log`);
 * assert.equal(next.sweep().length, 1);
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
 *   ".app.log.sluice-0000000000000000.tmp",
 * ]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class WorkDir {
  readonly #dir: string;
  readonly #base: string;
  readonly #name: RegExp;
  #path: string | undefined;
  /** The lock file of this run's work directory, locked while it is open. */
  #lock: Deno.FsFile | undefined;

  /** The work directory of a sink writing `livePath`; nothing is made before `entry()`/`claim()`. */
  constructor(livePath: string) {
    this.#dir = dirname(livePath);
    this.#base = basename(livePath);
    const base = this.#base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    this.#name = new RegExp(`^\\.${base}\\.sluice-([0-9a-f]{16})\\.tmp$`);
  }

  /**
   * The path of `name` inside this run's work directory, making the directory and its marker
   * on first use. Throws what making them throws (a full disk, say); the next call tries
   * again.
   */
  entry(name: string): string {
    this.#path ??= this.#make();
    return join(this.#path, name);
  }

  /**
   * Makes this run's work directory now (with its lock held for as long as it is open) and
   * returns another process's live run on the same file, if there is one: a marked work
   * directory whose lock is held, which only a live process can hold. Called at start-up,
   * once: the directory is locked before the others are looked at, so of two runs starting
   * together at least one sees the other. Throws what making the directory throws.
   */
  claim(): LiveRun | undefined {
    this.#path ??= this.#make();
    for (const { path, token } of this.#marked()) {
      if (path === this.#path || OPEN.has(path) || !this.#isOurs(path, token)) continue;
      const lock = openLock(path);
      if (lock === undefined) continue;
      try {
        if (!lock.tryLockSync(true)) return { path, pid: readPid(lock) };
      } finally {
        lock.close();
      }
    }
    return undefined;
  }

  /**
   * Removes what earlier runs left in their work directories (their temporary files and
   * trash batches) and the directories themselves, recognised by their marker; returns the
   * paths removed. Anything else is left where it is. Throws when the directory cannot be
   * listed or an entry cannot be removed.
   */
  sweep(): string[] {
    const removed: string[] = [];
    for (const { path, token } of this.#marked()) {
      if (path === this.#path || OPEN.has(path) || !this.#isOurs(path, token)) continue;
      // Held: a live run's. Missing: a version before locks left it.
      const lock = openLock(path);
      if (lock !== undefined && !lock.tryLockSync(true)) {
        lock.close();
        continue;
      }
      try {
        let others = 0;
        for (const inner of Deno.readDirSync(path)) {
          const innerPath = join(path, inner.name);
          if (inner.name === MARKER || inner.name === LOCK) continue;
          if (inner.isFile && FILE_NAME.test(inner.name)) Deno.removeSync(innerPath);
          else if (
            inner.isDirectory && BATCH_NAME.test(inner.name) && isTrashBatch(innerPath)
          ) {
            Deno.removeSync(innerPath, { recursive: true });
          } else {
            others++;
            continue;
          }
          removed.push(innerPath);
        }
        if (others === 0) removeDir(path, lock !== undefined);
      } finally {
        lock?.close();
      }
    }
    return removed;
  }

  /** Removes this run's work directory when it holds nothing but its marker, and unlocks it. */
  close(): void {
    const path = this.#path;
    if (path === undefined) return;
    this.#path = undefined;
    OPEN.delete(path);
    const lock = this.#lock;
    this.#lock = undefined;
    try {
      for (const entry of Deno.readDirSync(path)) {
        if (entry.name !== MARKER && entry.name !== LOCK) return;
      }
      removeDir(path, true);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    } finally {
      lock?.close();
    }
  }

  /**
   * Lets go of this run's work directory and leaves it as it is, its lock released: what a
   * crash leaves (tests).
   */
  abandon(): void {
    if (this.#path !== undefined) OPEN.delete(this.#path);
    this.#path = undefined;
    this.#lock?.close();
    this.#lock = undefined;
  }

  /** This file's marked-looking work directories: each name and its run's random part. */
  #marked(): { path: string; token: string }[] {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.#dir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    const marked: { path: string; token: string }[] = [];
    for (const entry of entries) {
      const token = this.#name.exec(entry.name)?.[1];
      if (entry.isDirectory && token !== undefined) {
        marked.push({ path: join(this.#dir, entry.name), token });
      }
    }
    return marked;
  }

  #make(): string {
    for (;;) {
      const token = Array.from(
        crypto.getRandomValues(new Uint8Array(8)),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      const path = join(this.#dir, `.${this.#base}.sluice-${token}.tmp`);
      try {
        Deno.mkdirSync(path);
      } catch (error) {
        // Someone else's entry (one chance in 2^64 by accident): choose another name.
        if (error instanceof Deno.errors.AlreadyExists) continue;
        throw error;
      }
      // The lock before the marker: a marked directory is never a live run's unlocked one.
      let lock: Deno.FsFile | undefined;
      try {
        lock = Deno.openSync(join(path, LOCK), { read: true, write: true, createNew: true });
        if (!lock.tryLockSync(true)) throw new Error(`Cannot lock "${join(path, LOCK)}"`);
        lock.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
        Deno.writeTextFileSync(join(path, MARKER), this.#marker(token), { createNew: true });
      } catch (error) {
        // Ours, just made: a marker part-written (on a full disk) goes with it.
        for (const made of [join(path, MARKER), join(path, LOCK), path]) {
          try {
            Deno.removeSync(made);
          } catch {
            // Not made, or no longer removable: the next start's sweep skips it.
          }
        }
        lock?.close();
        throw error;
      }
      this.#lock = lock;
      OPEN.add(path);
      return path;
    }
  }

  #marker(token: string): string {
    return `Temporary files of a Sluice rotating_file sink writing ${this.#base}, run ${token}; ` +
      "removed by the sink.\n";
  }

  /** Whether `path` holds the marker this code writes for `token`, as a regular file. */
  #isOurs(path: string, token: string): boolean {
    try {
      const marker = join(path, MARKER);
      const info = Deno.lstatSync(marker);
      if (!info.isFile || info.size > MARKER_MAX_BYTES) return false;
      return Deno.readTextFileSync(marker) === this.#marker(token);
    } catch {
      return false;
    }
  }
}

/**
 * Opens the lock file of the work directory `path` to try its lock; `undefined` when it has
 * none (made by a version before locks) or it is not a regular file (never opened: a FIFO
 * would block).
 */
function openLock(path: string): Deno.FsFile | undefined {
  const file = join(path, LOCK);
  try {
    if (!Deno.lstatSync(file).isFile) return undefined;
    return Deno.openSync(file, { read: true });
  } catch {
    return undefined;
  }
}

/** The pid in an open lock file, if it holds one. */
function readPid(lock: Deno.FsFile): number | undefined {
  try {
    const bytes = new Uint8Array(LOCK_MAX_BYTES);
    const n = lock.readSync(bytes) ?? 0;
    const pid = /^(\d+)\n$/.exec(new TextDecoder().decode(bytes.subarray(0, n)))?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  }
}

/**
 * Removes an emptied work directory: its lock file first (while the caller still holds its
 * lock; a sweep that then finds the marker without a lock takes the directory as one left
 * before locks, and removing what is already gone is harmless), then its marker, then it.
 */
function removeDir(path: string, locked: boolean): void {
  for (const entry of [...locked ? [join(path, LOCK)] : [], join(path, MARKER), path]) {
    try {
      Deno.removeSync(entry);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/**
 * Whether `dir` is a trash batch: it holds only regular files named 0, 1, 2 …, as
 * `Trash.take()` names them.
 */
function isTrashBatch(dir: string): boolean {
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile || !/^\d+$/.test(entry.name)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

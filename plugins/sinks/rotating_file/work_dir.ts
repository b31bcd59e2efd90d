/**
 * The hidden directory a rotating file sink keeps its temporary files in, and how the sink
 * tells its own leftovers from another program's entries.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/** The file in a work directory that says whose it is. */
const MARKER = "owner";
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

/**
 * One run's work directory next to a live file `app.log`: `.app.log.sluice-<16 hex>.tmp`,
 * with a random part chosen per run and a marker file naming the live file and that part.
 * The sink writes its temporary files only inside it (the next live file made ahead, a
 * compression in progress, trash batches, the record of its backups being rewritten), so
 * no name it deletes is one another program could have picked for a file of its own next to
 * the logs. The directory is made on first use and removed by `close()`; after a crash the
 * next start's `sweep()` recognises it by its marker, which only this code writes, and
 * removes what it holds of the sink's own naming (never the directory of a sink still open
 * in this process, as during a reload). A directory without that marker, whatever its name
 * and contents, is never touched.
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

  /** The work directory of a sink writing `livePath`; nothing is made until `entry()`. */
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
   * Removes what earlier runs left in their work directories (their temporary files and
   * trash batches) and the directories themselves, recognised by their marker; returns the
   * paths removed. Anything else is left where it is. Throws when the directory cannot be
   * listed or an entry cannot be removed.
   */
  sweep(): string[] {
    const removed: string[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.#dir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return removed;
      throw error;
    }
    for (const entry of entries) {
      const token = this.#name.exec(entry.name)?.[1];
      const path = join(this.#dir, entry.name);
      if (!entry.isDirectory || token === undefined || OPEN.has(path)) continue;
      if (!this.#isOurs(path, token)) continue;
      let others = 0;
      for (const inner of Deno.readDirSync(path)) {
        const innerPath = join(path, inner.name);
        if (inner.name === MARKER) continue;
        if (inner.isFile && FILE_NAME.test(inner.name)) Deno.removeSync(innerPath);
        else if (inner.isDirectory && BATCH_NAME.test(inner.name) && isTrashBatch(innerPath)) {
          Deno.removeSync(innerPath, { recursive: true });
        } else {
          others++;
          continue;
        }
        removed.push(innerPath);
      }
      if (others === 0) {
        Deno.removeSync(join(path, MARKER));
        Deno.removeSync(path);
      }
    }
    return removed;
  }

  /** Removes this run's work directory when it holds nothing but its marker. */
  close(): void {
    const path = this.#path;
    if (path === undefined) return;
    this.#path = undefined;
    OPEN.delete(path);
    try {
      for (const entry of Deno.readDirSync(path)) if (entry.name !== MARKER) return;
      Deno.removeSync(join(path, MARKER));
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  /** Lets go of this run's work directory and leaves it as it is: what a crash leaves (tests). */
  abandon(): void {
    if (this.#path !== undefined) OPEN.delete(this.#path);
    this.#path = undefined;
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
      try {
        Deno.writeTextFileSync(join(path, MARKER), this.#marker(token), { createNew: true });
      } catch (error) {
        // Ours, just made: a marker part-written (on a full disk) goes with it.
        for (const made of [join(path, MARKER), path]) {
          try {
            Deno.removeSync(made);
          } catch {
            // Not made, or no longer removable: the next start's sweep skips it.
          }
        }
        throw error;
      }
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

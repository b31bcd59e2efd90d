/**
 * What a rotating file sink does to rotated files off the write path: retention by count
 * and age, deletion through the trash, gzip compression one file at a time, and the next
 * live file created ahead of the next rotation.
 *
 * @module
 */

import type { Counter } from "../../../src/plugin/types.ts";
import { gzipFile } from "./gzip_file.ts";
import type { Backup, BackupSet } from "./retention.ts";
import { Trash } from "./trash.ts";
import type { LiveRun, WorkDir } from "./work_dir.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";

/** How often retention by age runs (ms). */
const AGE_CHECK_MS = 60_000;
/** Files the trash holds before it is emptied; it is also emptied within TRASH_DELAY_MS. */
const TRASH_BATCH = 8;
const TRASH_DELAY_MS = 1000;
/** Next live files created ahead (see `Upkeep.#spares`). */
const SPARES = 4;

/** A next live file: its path, and whether its creation succeeded (once settled). */
interface Spare {
  path: string;
  created: Promise<boolean>;
  /** Its append handle and identity, once created and stat-ed (in the background). */
  open?: PlacedSpare | undefined;
  /** Placed or removed: a handle that arrives later is closed. */
  gone?: boolean;
}

/** The handle of a next live file renamed into place, for `WatchedFile.adopt()`. */
export interface PlacedSpare {
  /** Its append handle. */
  file: Deno.FsFile;
  /** Its identity and size. */
  info: { dev: number; ino: number; size: number };
}

/** Options of an {@linkcode Upkeep}. */
export interface UpkeepOptions {
  /** The sink's id, for messages. */
  id: string;
  /** The live file. */
  path: string;
  /** The rotated files. */
  backups: BackupSet;
  /** The sink's work directory (shared with its backup journal). */
  work: WorkDir;
  /** Rotated files kept; 0 keeps none. */
  keep: number;
  /** Also delete rotated files last written longer ago than this (ms). */
  maxAge: number | undefined;
  /** Whether rotated files are compressed. */
  compress: boolean;
  /** `files_deleted_total` and `files_compressed_total`. */
  counters: { deleted: Counter; compressed: Counter };
  /** Counts and reports a failed operation (`delete`, `compress`). */
  failure(operation: string, message: string, error: unknown): void;
}

/** The background work on a rotating sink's rotated files. */
export class Upkeep {
  readonly #id: string;
  readonly #path: string;
  readonly #backups: BackupSet;
  readonly #keep: number;
  readonly #maxAge: number | undefined;
  readonly #compress: boolean;
  readonly #counters: UpkeepOptions["counters"];
  readonly #failure: UpkeepOptions["failure"];
  readonly #trash: Trash;
  /** Where the temporary files go: none of their names is one another program could pick. */
  readonly #work: WorkDir;
  #trashTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #discard = (path: string): void => {
    this.#trash.take(path);
  };
  #nextAgeCheck = 0;
  /**
   * The next live files, created in the background after a rotation: creating a file costs
   * 90-250 µs on the write path, renaming one into place about 15 µs. Handing the creation to
   * another thread costs the write path about as much as creating the file (75-100 µs
   * measured: waking the idle thread), so the pool is topped up from a microtask, after the
   * batch that rotated, one creation after the other (the thread is awake by then), and
   * holds enough for a burst of rotations between event loop turns (a large batch at
   * 1 MiB). When it is empty, `open()` creates the file.
   */
  readonly #spares: Spare[] = [];
  #filling: Promise<void> | undefined;
  #queue: Backup[] = [];
  #running: Promise<void> | undefined;
  #tempSeq = 0;
  readonly #background = new Set<Promise<void>>();
  #disposed = false;
  readonly #abort = new AbortController();

  /** Creates the upkeep of `options.backups` (already discovered). */
  constructor(options: UpkeepOptions) {
    this.#id = options.id;
    this.#path = options.path;
    this.#backups = options.backups;
    this.#keep = options.keep;
    this.#maxAge = options.maxAge;
    this.#compress = options.compress;
    this.#counters = options.counters;
    this.#failure = options.failure;
    this.#work = options.work;
    this.#trash = new Trash((n) => this.#work.entry(`delete-${n}`));
  }

  /**
   * Makes and locks the work directory at start-up, before anything else is touched, and
   * throws a `PluginError` naming `path` (as configured) and the other run's pid when another
   * process's live run rotates the same file (two rotators corrupt each other's numbering),
   * having closed the work directory and the backup set, which the sink then never closes.
   * One directory listing and one lock try per work directory found. A work directory that
   * cannot be made is reported (made again on first use; meanwhile another run goes
   * unnoticed).
   */
  claim(path: string): void {
    let other: LiveRun | undefined;
    try {
      other = this.#work.claim();
    } catch (error) {
      this.#failure("lock", `Cannot make the work directory of sink "${this.#id}"`, error);
    }
    if (other === undefined) return;
    this.#work.close();
    // The set is shared by path in this process (a reload's sinks): a reference left to it
    // would keep its journal open past the next sink's end.
    this.#backups.close();
    throw new PluginError(
      `Cannot open sink "${this.#id}": ${JSON.stringify(path)} is being rotated by another ` +
        `running Sluice (pid ${other.pid ?? "unknown"}); two processes rotating one file ` +
        "corrupt each other's numbering",
    );
  }

  /** Removes what a crashed earlier run left in its work directory (at start-up). */
  sweep(): void {
    try {
      this.#work.sweep();
    } catch (error) {
      this.#failure("delete", `Cannot remove the temporary files of sink "${this.#id}"`, error);
    }
  }

  /** Queues every rotated file not compressed yet (at start-up). */
  compressBacklog(): void {
    if (this.#compress) { for (const backup of this.#backups.list) this.#enqueue(backup); }
  }

  /** Applies retention by age when it is due. */
  maintain(now: number): void {
    if (this.#maxAge !== undefined && now >= this.#nextAgeCheck) this.applyRetention(now);
  }

  /** Deletes the rotated files beyond the count and older than the age. */
  applyRetention(now: number): void {
    this.#nextAgeCheck = now + AGE_CHECK_MS;
    const notBefore = this.#maxAge !== undefined ? now - this.#maxAge : undefined;
    let expired: Backup[];
    try {
      expired = this.#backups.expired(this.#keep, notBefore);
    } catch (error) {
      this.#failure("delete", `Cannot apply retention for sink "${this.#id}"`, error);
      return;
    }
    for (const backup of expired) this.delete(backup);
  }

  /**
   * Moves a backup out of the way now; it is deleted in the background (off the write path).
   * One that is no longer the file at its name is left alone.
   */
  delete(backup: Backup): void {
    try {
      if (!this.#backups.remove(backup, this.#discard)) return;
    } catch (error) {
      this.#failure("delete", `Cannot delete a rotated file of sink "${this.#id}"`, error);
      return;
    }
    // Counted now: the backup has left the set; its space is freed in the background.
    this.#counters.deleted.inc();
    this.#trashTaken();
  }

  /** Deletes the live file instead of rotating it (`backups: 0`); throws if it cannot move. */
  deleteLive(): void {
    this.#trash.take(this.#path);
    this.#counters.deleted.inc();
    this.#trashTaken();
  }

  /** Queues a file just rotated in for compression (when the sink compresses). */
  rotated(backup: Backup | undefined): void {
    if (backup && this.#compress) this.#enqueue(backup);
  }

  /**
   * Renames the next live file into place, when one was created in time; returns its handle
   * when that is open already (else the caller opens the path).
   */
  placeSpare(): PlacedSpare | undefined {
    const spare = this.#spares.shift();
    if (spare === undefined) return undefined;
    try {
      Deno.renameSync(spare.path, this.#path);
    } catch {
      // Not created yet (or it failed): open() creates the file, and the spare goes.
      this.#removeSpare(spare);
      return undefined;
    }
    spare.gone = true;
    const open = spare.open;
    spare.open = undefined;
    return open;
  }

  /**
   * Tops up the next live files in the background, from a microtask (off the write path);
   * when none is left (rotations faster than event loop turns), one is started at once.
   */
  prepareSpare(): void {
    if (this.#disposed) return;
    if (this.#spares.length === 0) this.#create();
    if (this.#filling) return;
    this.#filling = this.#fill().finally(() => this.#filling = undefined);
    this.#track(this.#filling);
  }

  async #fill(): Promise<void> {
    await undefined; // Off the write path: after the batch that rotated.
    while (!this.#disposed && this.#spares.length < SPARES) {
      const spare = this.#create();
      if (spare === undefined || !await spare.created) return;
    }
  }

  /** Starts creating a next live file; it joins the spares at once (created or not). */
  #create(): Spare | undefined {
    let path: string;
    try {
      path = this.#work.entry(`next-${++this.#tempSeq}`);
    } catch {
      return undefined; // No spare: the next rotation creates its file, and reports if that fails too.
    }
    const created = Deno.open(path, { append: true, createNew: true }).then(
      async (file) => {
        try {
          const info = await file.stat();
          if (!spare.gone) {
            spare.open = { file, info: { dev: info.dev, ino: info.ino ?? 0, size: info.size } };
            return true;
          }
        } catch {
          // Placed without its handle: the path is opened.
        }
        file.close();
        return true;
      },
      // No spare: the next rotation creates its file, and reports if that fails too.
      () => {
        const i = this.#spares.indexOf(spare);
        if (i >= 0) this.#spares.splice(i, 1);
        return false;
      },
    );
    const spare: Spare = { path, created };
    this.#track(created.then(() => {}));
    this.#spares.push(spare);
    return spare;
  }

  /**
   * Resolves when every queued compression and background file operation (deletions, the
   * next live file's creation) has finished.
   */
  async settled(): Promise<void> {
    for (;;) {
      this.#emptyTrash();
      await this.#running;
      await Promise.all(this.#background);
      // A compression that finished meanwhile may have put its plain file in the trash.
      if (!this.#running && this.#background.size === 0 && this.#trash.waiting === 0) return;
    }
  }

  /**
   * Finishes the compression in progress (queued ones resume on the next start) and the
   * background deletions, and removes the unused next live file.
   */
  async close(): Promise<void> {
    this.#disposed = true;
    await this.#filling;
    for (const spare of this.#spares.splice(0)) this.#removeSpare(spare);
    await this.#running;
    this.#emptyTrash();
    await Promise.all(this.#background);
    if (this.#trash.open) {
      // The batch directory made ahead, empty.
      const { error } = await this.#trash.empty();
      if (error !== undefined) {
        this.#failure("delete", `Cannot delete rotated files of sink "${this.#id}"`, error);
      }
    }
    this.#backups.close();
    try {
      this.#work.close();
    } catch (error) {
      this.#failure("delete", `Cannot remove the work directory of sink "${this.#id}"`, error);
    }
  }

  #removeSpare(spare: Spare): void {
    spare.gone = true;
    this.#track(spare.created.then(() => {
      spare.open?.file.close();
      spare.open = undefined;
      try {
        Deno.removeSync(spare.path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        this.#failure("delete", `Cannot remove the unused next file of sink "${this.#id}"`, error);
      }
    }));
  }

  /** Keeps a background file operation for `settled()` and `close()` to wait for. */
  #track(done: Promise<void>): void {
    const tracked = done.finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  #trashTaken(): void {
    if (this.#trash.waiting >= TRASH_BATCH) this.#emptyTrash();
    else if (this.#trashTimer === undefined && this.#trash.pending) {
      this.#trashTimer = setTimeout(() => {
        this.#trashTimer = undefined;
        this.#emptyTrash();
      }, TRASH_DELAY_MS);
      Deno.unrefTimer(this.#trashTimer);
    }
  }

  #emptyTrash(): void {
    if (this.#trashTimer !== undefined) {
      clearTimeout(this.#trashTimer);
      this.#trashTimer = undefined;
    }
    if (!this.#trash.pending) return;
    this.#track(
      this.#trash.empty(true).then(({ error }) => {
        if (error !== undefined) {
          this.#failure("delete", `Cannot delete rotated files of sink "${this.#id}"`, error);
        }
        // The next batch directory, while the thread is awake: off the write path.
        if (!this.#disposed) return this.#trash.prepare();
      }),
    );
  }

  #enqueue(backup: Backup): void {
    if (backup.gz) return;
    this.#queue.push(backup);
    this.#running ??= this.#drain().finally(() => this.#running = undefined);
  }

  async #drain(): Promise<void> {
    // Off the write path: starting a compression opens two files and dispatches a read
    // (200-300 µs), which waits for the batch that rotated to finish. The first one runs
    // even when the sink closed meanwhile: it was in progress as far as close() is concerned.
    await undefined;
    for (let first = true; this.#queue.length > 0 && (first || !this.#disposed); first = false) {
      const backup = this.#queue.shift()!;
      if (backup.removed || backup.gz) continue;
      await this.#compressOne(backup);
    }
  }

  async #compressOne(backup: Backup): Promise<void> {
    if (!this.#backups.verify(backup)) return; // not ours any more: left alone
    let source: Deno.FsFile;
    try {
      // Opened synchronously: the name cannot change between choosing and opening it.
      source = Deno.openSync(this.#backups.pathOf(backup), { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return; // Deleted from outside.
      this.#failure("compress", `Cannot compress a rotated file of sink "${this.#id}"`, error);
      return;
    }
    let temp: string | undefined;
    try {
      temp = this.#work.entry(`compress-${++this.#tempSeq}`);
      await gzipFile(source, temp, this.#abort.signal);
      // Removed meanwhile, or compressed by the other sink sharing the set (during a reload).
      if (backup.removed || backup.gz) {
        removeQuietly(temp);
        return;
      }
      // Synchronous from here: no rotation can rename the backup in between.
      if (!this.#backups.adoptCompressed(backup, temp, this.#discard)) {
        removeQuietly(temp);
        return;
      }
      this.#trashTaken();
      this.#counters.compressed.inc();
    } catch (error) {
      if (temp === undefined) source.close();
      else removeQuietly(temp);
      this.#failure("compress", `Cannot compress a rotated file of sink "${this.#id}"`, error);
    }
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone.
  }
}

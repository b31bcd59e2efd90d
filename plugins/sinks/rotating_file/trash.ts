/**
 * Deleting files off the write path, many at a time.
 *
 * @module
 */

/**
 * Deletes files in batches: `take()` renames a file into a hidden batch directory (a cheap,
 * synchronous step that frees its name at once) and `empty()` removes the whole directory
 * in one background operation. On this kind of machine an asynchronous `Deno.remove` costs
 * the calling thread 20-60 µs just to dispatch, and unlinking a file whose pages are still
 * cached costs about as much again, so a sink that rotates often pays for one dispatch per
 * batch instead of one per file. Batch directories are named by `batchPath(n)` (which may
 * throw, as `mkdir` may); a caller that finds one at startup (a crash between `take()` and
 * `empty()`) removes it.
 *
 * @example Free two names now, delete both files in one operation
 * ```ts
 * import { Trash } from "./trash.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/a.log`, "a");
 * Deno.writeTextFileSync(`${dir}/b.log`, "b");
 * const trash = new Trash((n) => `${dir}/.trash-${n}`);
 * trash.take(`${dir}/a.log`);
 * trash.take(`${dir}/b.log`);
 * assert.ok(trash.waiting === 2);
 * assert.ok((await trash.empty()).removed === 2);
 * assert.ok([...Deno.readDirSync(dir)].length === 0);
 * Deno.removeSync(dir);
 * ```
 */
export class Trash {
  readonly #batchPath: (n: number) => string;
  #batch: string | undefined;
  #seq = 0;
  #waiting = 0;
  #preparing = false;
  /** Batches whose removal failed, retried by the next `empty()`. */
  #failed: { path: string; files: number }[] = [];

  /** `batchPath(n)` names the n-th batch directory; it must be on the files' filesystem. */
  constructor(batchPath: (n: number) => string) {
    this.#batchPath = batchPath;
  }

  /** Files taken since the last `empty()`. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Whether `empty()` has anything to remove: a batch directory, or one to retry. */
  get open(): boolean {
    return this.#batch !== undefined || this.#failed.length > 0;
  }

  /** Whether `empty(true)` has anything to remove: files taken, or a batch to retry. */
  get pending(): boolean {
    return this.#waiting > 0 || this.#failed.length > 0;
  }

  /**
   * Frees the name `path` and returns `true` when the file waits in the trash, `false` when
   * it had to be deleted at once: a new batch directory cannot always be made (on a full
   * disk `mkdir` fails while a rename still works), and deleting is what frees the space.
   * Throws `NotFound` when `path` does not exist, and whatever else the rename or the
   * deletion throws.
   */
  take(path: string): boolean {
    while (this.#batch === undefined) {
      try {
        const batch = this.#batchPath(++this.#seq);
        Deno.mkdirSync(batch);
        this.#batch = batch;
      } catch (error) {
        // Left by an earlier process: take the next name.
        if (error instanceof Deno.errors.AlreadyExists) continue;
        Deno.removeSync(path);
        return false;
      }
    }
    Deno.renameSync(path, `${this.#batch}/${this.#waiting}`);
    this.#waiting++;
    return true;
  }

  /**
   * Makes the next batch directory ahead, in the background, so that `take()` finds one
   * (a `mkdir` costs the write path about 90 µs). Made while `take()` made its own, it is
   * removed again; a failure leaves it to `take()`.
   */
  async prepare(): Promise<void> {
    if (this.#batch !== undefined || this.#preparing) return;
    this.#preparing = true;
    try {
      const batch = this.#batchPath(++this.#seq);
      try {
        await Deno.mkdir(batch);
      } catch {
        return; // Left by an earlier process, or no room: take() makes its own.
      }
      if (this.#batch === undefined) this.#batch = batch;
      else await Deno.remove(batch).catch(() => {});
    } finally {
      this.#preparing = false;
    }
  }

  /**
   * Removes the current batch directory in the background (unless it holds no file and
   * `keepEmpty` says to keep it for the next files), with any whose removal failed before, and resolves with the number of files removed and the first error. A batch that
   * could not be removed is kept for the next call.
   */
  async empty(keepEmpty = false): Promise<{ removed: number; error?: unknown }> {
    const batches = this.#failed;
    this.#failed = [];
    if (this.#batch !== undefined && (this.#waiting > 0 || !keepEmpty)) {
      batches.push({ path: this.#batch, files: this.#waiting });
      this.#batch = undefined;
      this.#waiting = 0;
    }
    let removed = 0;
    let error: unknown;
    for (const batch of batches) {
      try {
        await Deno.remove(batch.path, { recursive: true });
        removed += batch.files;
      } catch (thrown) {
        if (thrown instanceof Deno.errors.NotFound) removed += batch.files;
        else {
          this.#failed.push(batch);
          error ??= thrown;
        }
      }
    }
    return error === undefined ? { removed } : { removed, error };
  }
}

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
 * batch instead of one per file. Batch directories are named by `batchPath(n)`; a caller
 * that finds one at startup (a crash between `take()` and `empty()`) removes it.
 *
 * @example Free two names now, delete both files in one operation
 * ```ts
 * import { Trash } from "./trash.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/a.log`, "a");
 * Deno.writeTextFileSync(`${dir}/b.log`, "b");
 * const trash = new Trash((n) => `${dir}/.trash-${n}`);
 * trash.take(`${dir}/a.log`);
 * trash.take(`${dir}/b.log`);
 * console.assert(trash.waiting === 2);
 * console.assert(await trash.empty() === 2);
 * console.assert([...Deno.readDirSync(dir)].length === 0);
 * Deno.removeSync(dir);
 * ```
 */
export class Trash {
  readonly #batchPath: (n: number) => string;
  #batch: string | undefined;
  #seq = 0;
  #waiting = 0;

  /** `batchPath(n)` names the n-th batch directory; it must be on the files' filesystem. */
  constructor(batchPath: (n: number) => string) {
    this.#batchPath = batchPath;
  }

  /** Files taken since the last `empty()`. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Whether a batch directory exists (it may be empty when a `take()` failed). */
  get open(): boolean {
    return this.#batch !== undefined;
  }

  /**
   * Renames `path` into the current batch directory, creating the directory first if
   * needed. Throws `NotFound` when `path` does not exist, and whatever else the rename
   * throws; nothing is taken then.
   */
  take(path: string): void {
    while (this.#batch === undefined) {
      const batch = this.#batchPath(++this.#seq);
      try {
        Deno.mkdirSync(batch);
        this.#batch = batch;
      } catch (error) {
        // Left by an earlier process: take the next name.
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
    }
    Deno.renameSync(path, `${this.#batch}/${this.#waiting}`);
    this.#waiting++;
  }

  /**
   * Removes the current batch directory in the background and resolves with the number of
   * files it held (0 at once when there is none). Rejects when the removal fails.
   */
  async empty(): Promise<number> {
    const batch = this.#batch;
    const count = this.#waiting;
    this.#batch = undefined;
    this.#waiting = 0;
    if (batch === undefined) return 0;
    await Deno.remove(batch, { recursive: true });
    return count;
  }
}

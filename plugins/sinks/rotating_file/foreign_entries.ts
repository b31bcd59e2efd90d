/**
 * How a rotating file sink counts and says what it leaves alone: entries named like its
 * backups that it did not write.
 *
 * @module
 */

import { basename } from "node:path";
import type { Counter, PluginContext } from "../../../src/plugin/types.ts";

/** Names a start-up message lists; it gives the number of the rest. */
const NAMES_SAID = 5;

/**
 * Counts each foreign entry a sink meets (each time it meets one) in
 * `sluice_files_skipped_total`, and says it once per sink: what is met between `gather()` and
 * `report()` (discovery at start-up) in one message naming how many, where and which.
 *
 * @example Three foreign backups found at start-up, one met later: counted four times, said once
 * ```ts
 * import { ForeignEntries } from "./foreign_entries.ts";
 * import { Metrics } from "../../../src/pipeline/metrics.ts";
 * import { createInternalLog } from "../../../src/pipeline/internal_log.ts";
 * import assert from "node:assert/strict";
 * const metrics = new Metrics();
 * const said: string[] = [];
 * const foreign = new ForeignEntries({
 *   id: "out", log: createInternalLog(metrics, (line) => said.push(line)),
 *   counter: (name, help) => metrics.counter(name, help),
 * });
 * foreign.gather();
 * for (const name of ["app.log.1", "app.log.2.gz", "app.log.3"]) foreign.skip(`/logs/${name}`);
 * foreign.report("/logs", "/logs/.app.log.sluice-backups");
 * foreign.skip("/logs/app.log.1");
 * assert.equal(metrics.sum("files_skipped_total"), 4);
 * assert.equal(said.length, 1);
 * assert.match(said[0]!, /leaves 3 entries named like its backups in \/logs alone/);
 * ```
 */
export class ForeignEntries {
  readonly #id: string;
  readonly #log: PluginContext["log"];
  readonly #skipped: Counter;
  #found: string[] | undefined;

  /** Registers the counter. */
  constructor(context: Pick<PluginContext, "id" | "log" | "counter">) {
    this.#id = context.id;
    this.#log = context.log;
    this.#skipped = context.counter("files_skipped_total", "Foreign entries a sink left alone.");
  }

  /** Counts a foreign entry met, and says it unless it is gathered or one was said already. */
  readonly skip = (path: string): void => {
    this.#skipped.inc();
    if (this.#found) this.#found.push(path);
    else {
      this.#log.warnOnce(
        this.#key,
        `Sink "${this.#id}" skips ${path}: named like its own files, not written by it`,
      );
    }
  };

  /** Gathers what is met from now on, to be said together by `report()`. */
  gather(): void {
    this.#found = [];
  }

  /**
   * Says what was gathered, in `dir` (when anything), in one message that names `record`
   * (the journal of the sink's own backups) and asks the operator to delete what is not
   * needed; then says each later one as `skip()` does (once per sink in all).
   */
  report(dir: string, record: string): void {
    const found = this.#found ?? [];
    this.#found = undefined;
    if (found.length === 0) return;
    const more = found.length - NAMES_SAID;
    const names = found.slice(0, NAMES_SAID).map((path) => basename(path)).join(", ") +
      (more > 0 ? ` and ${more} more` : "");
    this.#log.warnOnce(
      this.#key,
      `Sink "${this.#id}" leaves ${found.length} entries named like its backups in ${dir} ` +
        `alone, not written by it (not in ${record}, its record of its backups): ${names}. ` +
        "They come from a run of a version that kept no record, from another program " +
        "(such as Python's handlers) or were changed since; delete them when no longer needed.",
    );
  }

  get #key(): string {
    return `rotating_file:${this.#id}:foreign`;
  }
}

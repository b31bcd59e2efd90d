/**
 * The light record of the worker-ingest prototype (issue #18): what the main thread builds
 * per line from a Worker's reply. Its canonical JSON line was already written by the Worker
 * (the json formatter with default options), so `format.ts` emits it as is.
 *
 * Prototype shortcut: `fields` is one shared empty object. The real integration would parse
 * them from `line` on first access and charge `line.length` in the sink queue's estimate.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";

const NO_FIELDS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** A record whose JSON line is precomputed. */
export class IngestedRecord implements LogRecord {
  time: number;
  level: number;
  logger: string;
  message: string;
  fields: Record<string, unknown> = NO_FIELDS;
  readonly #line: string;

  /** A record from a Worker's headers and its line. */
  constructor(time: number, level: number, logger: string, message: string, line: string) {
    this.time = time;
    this.level = level;
    this.logger = logger;
    this.message = message;
    this.#line = line;
  }

  /** The json formatter's line for this record, without its newline. */
  static lineOf(record: IngestedRecord): string {
    return record.#line;
  }
}

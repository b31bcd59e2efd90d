/**
 * What a pipeline node pushes records into.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";

/** Anything records can be pushed into: a sink node or a processor node. */
export interface Target {
  /** Routes one record. `local` marks in-process log calls, which must never wait. */
  push(record: LogRecord, local: boolean): void;
}

/**
 * What the `http` source read from one request's body.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";

/** Most errors listed in one response; the rest are counted in `rejected` only. */
const MAX_LISTED_ERRORS = 100;

/** One rejected input in a response body. */
export interface IngestError {
  /** 1-based line of an NDJSON body. */
  line?: number;
  /** 0-based index in a JSON array body. */
  index?: number;
  /** The rejection label, as counted in `sluice_records_rejected_total{reason}`. */
  reason: string;
  /** What was wrong. */
  message: string;
}

/**
 * A request's records and rejections: every rejection is counted by reason in `reasons`;
 * the first 100 are listed in `errors` for the response.
 *
 * @example Two rejections, one listed per call
 * ```ts
 * import { Parsed } from "./parsed.ts";
 * import assert from "node:assert/strict";
 * const parsed = new Parsed([]);
 * parsed.reject({ line: 2, reason: "invalid_json", message: "Invalid JSON" });
 * parsed.reject({ index: 0, reason: "not_an_object", message: "Expected a JSON object" });
 * assert.equal(parsed.rejected, 2);
 * assert.equal(parsed.reasons.get("invalid_json"), 1);
 * assert.equal(parsed.errors.length, 2);
 * ```
 */
export class Parsed {
  /** Rejected inputs, in all. */
  rejected = 0;
  /** The first rejections, for the response. */
  readonly errors: IngestError[] = [];
  /** Rejections by reason (the listed errors are capped; this is not). */
  readonly reasons: Map<string, number> = new Map();
  /** Records the JSON line scanner read without `JSON.parse`. */
  scanned = 0;

  /** Holds `records` (more may be pushed). */
  constructor(readonly records: LogRecord[]) {}

  /** Counts one rejection, and lists it while fewer than 100 are. */
  reject(error: IngestError): void {
    this.rejected++;
    this.reasons.set(error.reason, (this.reasons.get(error.reason) ?? 0) + 1);
    if (this.errors.length < MAX_LISTED_ERRORS) this.errors.push(error);
  }
}

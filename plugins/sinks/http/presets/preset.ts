/**
 * What an HTTP payload preset is: how records become items, items become a request body, and
 * a successful response tells which records the receiver still refused.
 *
 * @module
 */

import type { LogRecord } from "../../../../src/core/record.ts";

/** Records of a request the receiver answered for one by one (Elasticsearch `_bulk`). */
export interface ItemOutcome {
  /** Indexes (into the request's records) to send again: the receiver was busy. */
  retry: number[];
  /** Indexes the receiver refused for good, each with a short reason for the metrics. */
  reject: { index: number; reason: string; detail: string }[];
}

/**
 * A payload preset of the `http` sink. `item` runs once per record (and may throw: the
 * record is then skipped and counted as a format error); `body` joins the items of one
 * request, in order; `outcome`, when present, reads a 2xx response for per-record failures.
 */
export interface HttpPreset {
  /** The request's Content-Type. */
  readonly contentType: string;
  /** Encodes one record. */
  item(record: LogRecord): string;
  /** Bytes the body adds besides its items (for batching by size). */
  readonly overhead: number;
  /** Joins one request's items (`records[i]` produced `items[i]`). */
  body(items: readonly string[], records: readonly LogRecord[]): string;
  /** Reads a 2xx response's per-record outcome (default: everything delivered). */
  outcome?(response: Response, count: number): Promise<ItemOutcome>;
}

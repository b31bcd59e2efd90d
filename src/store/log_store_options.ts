/**
 * The options every database sink shares: its table and its retention.
 *
 * @module
 */

import { s, type Schema } from "../schema/schema.ts";

/** Table names: one SQL identifier, the same in SQLite and PostgreSQL without quoting rules. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** What a log table keeps. */
export interface Retention {
  /** Delete records older than this many ms (by their time). */
  max_age?: number | undefined;
  /** Keep at most this many records, the newest. */
  max_rows?: number | undefined;
  /** How often retention runs, in ms (and once when the sink starts). */
  every: number;
}

/**
 * The `table:` option of a database sink: an SQL identifier, `logs` by default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableOption } from "./log_store_options.ts";
 * const ctx = { issues: [] };
 * assert.equal(tableOption().parse("app_logs", [], ctx), "app_logs");
 * tableOption().parse("logs; drop table x", ["table"], ctx);
 * assert.equal(ctx.issues.length, 1);
 * ```
 */
export function tableOption(): Schema<string> {
  return s.string({ pattern: IDENTIFIER, patternName: "an SQL identifier (letters, digits, _)" })
    .default("logs").describe(
      "The table; created with its indexes when missing, missing columns added when it exists.",
    );
}

/**
 * The `retention:` option of a database sink: `max_age`, `max_rows`, checked `every` so often.
 *
 * @example Keep two weeks
 * ```ts
 * import assert from "node:assert/strict";
 * import { retentionOption } from "./log_store_options.ts";
 * const parsed = retentionOption().parse({ max_age: "14d" }, [], { issues: [] });
 * assert.deepEqual(parsed, { max_age: 14 * 86_400_000, every: 60_000 });
 * ```
 */
export function retentionOption(): Schema<Retention> {
  return s.object({
    max_age: s.duration().optional().describe("Delete records older than this (by their time)."),
    max_rows: s.integer({ min: 1 }).optional().describe(
      "Keep at most this many records (the newest).",
    ),
    every: s.duration().default(60_000).describe("How often retention runs (and once at start)."),
  }).default({ max_age: undefined, max_rows: undefined, every: 60_000 }).describe(
    "What the table keeps; everything when omitted.",
  ) as Schema<
    Retention
  >;
}

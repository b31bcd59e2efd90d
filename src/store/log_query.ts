/**
 * The query `sluice query` runs against a log table, in either dialect.
 *
 * @module
 */

import type { Dialect } from "./log_table.ts";

/** What to look for. Every filter is optional; `limit` bounds the answer. */
export interface LogFilter {
  /** Records at this level or above. */
  minLevel?: number;
  /** Records at or after this time (epoch ms). */
  since?: number;
  /** Records of this service. */
  service?: string;
  /** Records of this trace id. */
  traceId?: string;
  /** Records whose message or fields contain this text (case-insensitive). */
  grep?: string;
  /** At most this many records: the newest ones. */
  limit: number;
}

/** A query with its parameters, placeholders in the dialect's style. */
export interface LogQuery {
  /** The SQL text. */
  text: string;
  /** The parameter values, in placeholder order. */
  params: (string | number)[];
}

/**
 * Builds the query for `filter` on `table` (an identifier validated by the options schema):
 * the newest matching records first, at most `limit`. Every value but the (integer)
 * limit is a parameter, never spliced into the text.
 *
 * @example Errors of one service in the last five minutes, in PostgreSQL
 * ```ts
 * import assert from "node:assert/strict";
 * import { logQuery } from "./log_query.ts";
 * const query = logQuery("postgres", "logs", {
 *   minLevel: 40, since: 1_700_000_000_000, service: "payment", limit: 100,
 * });
 * assert.match(query.text, /WHERE level >= \$1 AND time >= to_timestamp\(\$2::float8 \/ 1000\)/);
 * assert.deepEqual(query.params, [40, 1_700_000_000_000, "payment"]);
 * assert.match(query.text, /LIMIT 100$/);
 * ```
 */
export function logQuery(dialect: Dialect, table: string, filter: LogFilter): LogQuery {
  const params: (string | number)[] = [];
  const p = (value: string | number): string => {
    params.push(value);
    return dialect === "postgres" ? `$${params.length}` : `?${params.length}`;
  };
  const where: string[] = [];
  if (filter.minLevel !== undefined) where.push(`level >= ${p(filter.minLevel)}`);
  if (filter.since !== undefined) {
    where.push(
      dialect === "postgres"
        ? `time >= to_timestamp(${p(filter.since)}::float8 / 1000)`
        : `time >= ${p(filter.since)}`,
    );
  }
  if (filter.service !== undefined) where.push(`service = ${p(filter.service)}`);
  if (filter.traceId !== undefined) where.push(`trace_id = ${p(filter.traceId)}`);
  if (filter.grep !== undefined) {
    // instr/strpos, not LIKE: the text is matched as it is, `%` and `_` included.
    const text = p(filter.grep.toLowerCase());
    where.push(
      dialect === "postgres"
        ? `(strpos(lower(message), ${text}) > 0 OR strpos(lower(fields::text), ${text}) > 0)`
        : `(instr(lower(message), ${text}) > 0 OR instr(lower(fields), ${text}) > 0)`,
    );
  }
  // Inlined, not a parameter: SQLite binds a JS number as REAL, which LIMIT refuses.
  const limit = Math.max(1, Math.trunc(filter.limit));
  const columns = "time, level, logger, message, trace_id, span_id, fields, error";
  const text = `SELECT ${columns} FROM "${table}"` +
    (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
    ` ORDER BY time DESC, ${dialect === "postgres" ? "id" : "rowid"} DESC LIMIT ${limit}`;
  return { text, params };
}

/**
 * The log table that the `sqlite` and `postgres` sinks write and `sluice query` reads: its
 * columns in each dialect, its indexes, and the conversion of a record to a row and back.
 *
 * @module
 */

import type { LogRecord, SerializedError } from "../core/record.ts";
import { safeStringify } from "../core/safe_stringify.ts";

/** The SQL dialects Sluice writes. */
export type Dialect = "sqlite" | "postgres";

/** One column of the log table. */
export interface LogColumn {
  /** Its name. */
  readonly name: keyof LogRow;
  /** Its type in SQLite. */
  readonly sqlite: string;
  /** Its type in PostgreSQL. */
  readonly postgres: string;
  /** Whether it has an index of its own (the filters of `sluice query`). */
  readonly indexed: boolean;
}

/**
 * The columns, in insert order. `time` is epoch milliseconds in SQLite (an integer sorts and
 * compares fastest there) and `timestamptz` in PostgreSQL; `fields` and `error` are JSON text
 * in SQLite and `jsonb` in PostgreSQL. Every column but these is a plain scalar so that the
 * filters of `sluice query` are index lookups.
 */
export const LOG_COLUMNS: readonly LogColumn[] = [
  { name: "time", sqlite: "INTEGER NOT NULL", postgres: "timestamptz NOT NULL", indexed: true },
  { name: "level", sqlite: "INTEGER NOT NULL", postgres: "smallint NOT NULL", indexed: true },
  { name: "logger", sqlite: "TEXT NOT NULL", postgres: "text NOT NULL", indexed: false },
  { name: "message", sqlite: "TEXT NOT NULL", postgres: "text NOT NULL", indexed: false },
  { name: "trace_id", sqlite: "TEXT", postgres: "text", indexed: true },
  { name: "span_id", sqlite: "TEXT", postgres: "text", indexed: false },
  { name: "service", sqlite: "TEXT", postgres: "text", indexed: true },
  { name: "fields", sqlite: "TEXT NOT NULL", postgres: "jsonb NOT NULL", indexed: false },
  { name: "error", sqlite: "TEXT", postgres: "jsonb", indexed: false },
];

/** A record as a row of the log table (`fields` and `error` as JSON text). */
export interface LogRow {
  /** Epoch milliseconds. */
  time: number;
  /** The level number. */
  level: number;
  /** The logger name. */
  logger: string;
  /** The message. */
  message: string;
  /** The W3C trace id, when the record has one. */
  trace_id: string | null;
  /** The span id, when the record has one. */
  span_id: string | null;
  /** The `service` field, or the sink's `service` option. */
  service: string | null;
  /** The fields as a JSON object. */
  fields: string;
  /** The serialized error as JSON, when there is one. */
  error: string | null;
}

/** A record that may carry trace context on itself (set by tracing) or in its fields. */
type TracedRecord = LogRecord & { trace_id?: unknown; span_id?: unknown };

function textOf(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/**
 * The row of `record`: the trace and span ids from the record (or its `trace_id` and
 * `span_id` fields), the service from its `service` field or else `service`.
 *
 * @example A record as a row
 * ```ts
 * import assert from "node:assert/strict";
 * import { logRowOf } from "./log_table.ts";
 * const row = logRowOf({
 *   time: 1_700_000_000_000, level: 40, logger: "pay", message: "declined",
 *   fields: { service: "payment", trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", amount: 12 },
 * }, "default");
 * assert.equal(row.service, "payment");
 * assert.equal(row.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.equal(row.fields, '{"service":"payment","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","amount":12}');
 * assert.equal(row.error, null);
 * ```
 */
export function logRowOf(record: LogRecord, service: string | null): LogRow {
  const traced = record as TracedRecord;
  const fields = record.fields;
  return {
    time: record.time,
    level: record.level,
    logger: record.logger,
    message: record.message,
    trace_id: textOf(traced.trace_id) ?? textOf(fields.trace_id),
    span_id: textOf(traced.span_id) ?? textOf(fields.span_id),
    service: textOf(fields.service) ?? service,
    fields: safeStringify(fields),
    error: record.error === undefined ? null : safeStringify(record.error),
  };
}

/** A row as read back: `time` may be a `Date`, JSON columns text or already parsed. */
export interface StoredRow {
  /** Epoch ms (SQLite) or a `Date` (PostgreSQL). */
  time: number | bigint | Date;
  /** The level number. */
  level: number | bigint;
  /** The logger name. */
  logger: string;
  /** The message. */
  message: string;
  /** The trace id or null. */
  trace_id: string | null;
  /** The span id or null. */
  span_id: string | null;
  /** The fields, JSON text or parsed. */
  fields: string | Record<string, unknown> | null;
  /** The error, JSON text or parsed, or null. */
  error: string | SerializedError | null;
}

function parsed<T>(value: string | T | null): T | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/**
 * The record a stored row holds (what `sluice query` formats): trace and span ids, which the
 * fields may not hold, come back as fields.
 *
 * @example Back from a row
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordOfRow } from "./log_table.ts";
 * const record = recordOfRow({
 *   time: 1_700_000_000_000, level: 20, logger: "app", message: "hi",
 *   trace_id: "t1", span_id: null, fields: '{"user":"ada"}', error: null,
 * });
 * assert.deepEqual(record.fields, { user: "ada", trace_id: "t1" });
 * ```
 */
export function recordOfRow(row: StoredRow): LogRecord {
  const fields = { ...parsed<Record<string, unknown>>(row.fields) };
  if (row.trace_id !== null && fields.trace_id === undefined) fields.trace_id = row.trace_id;
  if (row.span_id !== null && fields.span_id === undefined) fields.span_id = row.span_id;
  const record: LogRecord = {
    time: row.time instanceof Date ? row.time.getTime() : Number(row.time),
    level: Number(row.level),
    logger: row.logger,
    message: row.message,
    fields,
  };
  const error = parsed<SerializedError>(row.error);
  if (error !== undefined) record.error = error;
  return record;
}

/**
 * The indexes of a log table named `table`: one per indexed column, named `<table>_<column>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logIndexes } from "./log_table.ts";
 * assert.deepEqual(logIndexes("logs")[0], { name: "logs_time", column: "time" });
 * ```
 */
export function logIndexes(table: string): { name: string; column: string }[] {
  return LOG_COLUMNS.filter((c) => c.indexed).map((c) => ({
    name: `${table}_${c.name}`,
    column: c.name,
  }));
}

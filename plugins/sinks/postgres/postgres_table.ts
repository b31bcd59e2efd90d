/**
 * Creating and migrating the `postgres` sink's table, one aggregator at a time.
 *
 * @module
 */

import type { PostgresSql } from "./postgres_api.ts";
import { LOG_COLUMNS, logIndexes } from "../../../src/store/log_table.ts";

/** A table whose columns cannot hold the log schema: not retried, since waiting does not fix it. */
export class TableMismatchError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "TableMismatchError";
  }
}

/** The type name `information_schema.columns.data_type` reports for each column type. */
const REPORTED: Record<string, string> = {
  timestamptz: "timestamp with time zone",
  smallint: "smallint",
  text: "text",
  jsonb: "jsonb",
};

/**
 * Creates the table (an identity `id` and the log columns) with its indexes when missing, or
 * adds missing columns and indexes, inside one transaction holding an advisory lock on the
 * table's name: aggregators starting together migrate one after the other, and the second
 * finds the work done. A column of another type is a {@linkcode TableMismatchError}.
 * Returns the columns it added to an existing table.
 */
export async function preparePostgresTable(sql: PostgresSql, table: string): Promise<string[]> {
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${"sluice.table." + table}))`;
    const rows = await tx<{ column_name: string; data_type: string }[]>`
      SELECT column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ${table}`;
    const existing = new Map(rows.map((r) => [r.column_name, r.data_type]));
    const added: string[] = [];
    if (existing.size === 0) {
      const columns = LOG_COLUMNS.map((c) => `${c.name} ${c.postgres}`).join(", ");
      await tx.unsafe(
        `CREATE TABLE "${table}" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ${columns})`,
      );
    } else {
      for (const column of LOG_COLUMNS) {
        const wanted = column.postgres.split(" ")[0]!;
        const type = existing.get(column.name);
        if (type === undefined) {
          // Nullable: rows written before the column existed have no value for it.
          await tx.unsafe(`ALTER TABLE "${table}" ADD COLUMN ${column.name} ${wanted}`);
          added.push(column.name);
        } else if (type !== REPORTED[wanted]) {
          throw new TableMismatchError(
            `table "${table}" has column "${column.name}" of type ${type}, expected ${wanted}`,
          );
        }
      }
      if (!existing.has("id")) {
        throw new TableMismatchError(`table "${table}" has no "id" column`);
      }
    }
    for (const index of logIndexes(table)) {
      await tx.unsafe(
        `CREATE INDEX IF NOT EXISTS "${index.name}" ON "${table}" (${index.column})`,
      );
    }
    return added;
  });
}

/**
 * Creates and migrates the `sqlite` sink's log table.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { LOG_COLUMNS, logIndexes } from "../../../src/store/log_table.ts";

/**
 * Makes `table` a current log table: creates it with its indexes when it is missing; when it
 * exists (written by an older Sluice, or made by hand), adds the columns and indexes it
 * lacks. A column that exists with another type is an error, not a guess. Returns the
 * columns it added.
 *
 * @example Create, then migrate a table that lacks the trace columns
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { prepareSqliteTable } from "./sqlite_table.ts";
 * const db = new DatabaseSync(":memory:");
 * db.exec("CREATE TABLE old (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, level INTEGER NOT NULL, logger TEXT NOT NULL, message TEXT NOT NULL, fields TEXT NOT NULL)");
 * assert.deepEqual(prepareSqliteTable(db, "old"), ["trace_id", "span_id", "service", "error"]);
 * assert.deepEqual(prepareSqliteTable(db, "old"), []);
 * assert.deepEqual(prepareSqliteTable(db, "fresh"), []);
 * db.close();
 * ```
 */
export function prepareSqliteTable(db: DatabaseSync, table: string): string[] {
  const existing = new Map<string, string>();
  for (const row of db.prepare(`PRAGMA table_info("${table}")`).all()) {
    existing.set(String(row.name), String(row.type).toUpperCase());
  }
  const added: string[] = [];
  db.exec("BEGIN IMMEDIATE");
  try {
    if (existing.size === 0) {
      const columns = LOG_COLUMNS.map((c) => `${c.name} ${c.sqlite}`).join(", ");
      db.exec(`CREATE TABLE "${table}" (id INTEGER PRIMARY KEY, ${columns})`);
    } else {
      for (const column of LOG_COLUMNS) {
        const type = existing.get(column.name);
        const wanted = column.sqlite.split(" ")[0]!;
        if (type === undefined) {
          // Added nullable: rows written before the column existed have no value for it.
          db.exec(`ALTER TABLE "${table}" ADD COLUMN ${column.name} ${wanted}`);
          added.push(column.name);
        } else if (type !== wanted) {
          throw new Error(
            `table "${table}" has column "${column.name}" of type ${
              type || "(none)"
            }, expected ${wanted}`,
          );
        }
      }
    }
    for (const index of logIndexes(table)) {
      db.exec(`CREATE INDEX IF NOT EXISTS "${index.name}" ON "${table}" (${index.column})`);
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  return added;
}

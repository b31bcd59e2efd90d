/**
 * The `sqlite` sink: records into an SQLite database (`node:sqlite`), queryable with
 * `sluice query --sqlite`.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname, resolve } from "node:path";
import type { LogRecord } from "../../../src/core/record.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { formatErrorReporter } from "../../../src/plugin/format_error_reporter.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import { s } from "../../../src/schema/schema.ts";
import { LOG_COLUMNS, logRowOf } from "../../../src/store/log_table.ts";
import { retentionOption, tableOption } from "../../../src/store/log_store_options.ts";
import { prepareSqliteTable } from "./sqlite_table.ts";
import { messageOf } from "../../../src/core/message_of.ts";

/**
 * Writes one transaction per batch into a table of the columns `time` (epoch ms), `level`,
 * `logger`, `message`, `trace_id`, `span_id`, `service`, `fields` (JSON) and `error` (JSON),
 * indexed on time, level, service and trace id. The database runs in WAL mode, so
 * `sluice query` and other readers never block the sink, and a committed batch survives a
 * crash of the process (`synchronous: full` also survives a power loss, at an fsync per
 * batch). The table is created when missing and migrated when older (missing columns and
 * indexes added). `retention` deletes records by age or keeps the newest `max_rows`; what it
 * deletes is counted in `sluice_records_expired_total`.
 *
 * The sink writes synchronously, so in-process loggers can use `when_full: block` and the
 * process flushes at exit without losing records. A batch that fails (disk full, the
 * database locked by another writer) is rolled back and retried whole, then handed to the
 * `fallback` like every sink's.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * const yaml = `
 * sinks:
 *   db:
 *     type: sqlite
 *     path: logs/sluice.db
 *     table: logs
 *     service: checkout
 *     retention: { max_age: 14d, max_rows: 10000000 }
 * `;
 * assert.match(yaml, /type: sqlite/);
 * ```
 */
export default definePlugin({
  kind: "sink",
  writesSync: true,
  type: "sqlite",
  description:
    "Records into an SQLite table (WAL, one transaction per batch, indexed, retention); read with sluice query.",
  options: s.object({
    path: s.string({ minLength: 1 }).describe(
      "The database file; relative to the config file's directory.",
    ),
    table: tableOption(),
    service: s.string({ minLength: 1 }).optional().describe(
      "The service column of records that have no `service` field.",
    ),
    retention: retentionOption(),
    synchronous: s.enum(["normal", "full"] as const).default("normal").describe(
      "normal: a committed batch survives a crash of the process; full: also a power loss (fsync per batch).",
    ),
  }),
  permissions(options, context) {
    // The directory, not the file: SQLite creates `-wal` and `-shm` files beside it.
    const dir = dirname(resolve(context.baseDir, options.path));
    return { read: [dir], write: [dir] };
  },
  create(options, context) {
    const path = resolve(context.baseDir, options.path);
    const table = options.table;
    let db: DatabaseSync;
    try {
      Deno.mkdirSync(dirname(path), { recursive: true });
      db = new DatabaseSync(path);
    } catch (error) {
      throw new PluginError(
        `Cannot open sink "${context.id}": cannot open database "${path}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    let insert: StatementSync;
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.synchronous.toUpperCase()}`);
      // Waits for another writer this long before the batch fails and is retried: the event
      // loop stops meanwhile, so it is short.
      db.exec("PRAGMA busy_timeout = 100");
      const added = prepareSqliteTable(db, table);
      if (added.length > 0) {
        context.log.info(
          `Sink "${context.id}" added column(s) ${
            added.join(", ")
          } to table "${table}" in "${path}"`,
        );
      }
      const names = LOG_COLUMNS.map((c) => c.name);
      insert = db.prepare(
        `INSERT INTO "${table}" (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
      );
    } catch (error) {
      db.close();
      throw new PluginError(
        `Cannot open sink "${context.id}": table "${table}" in "${path}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    const service = options.service ?? null;
    const onBadRecord = formatErrorReporter(context);
    const expired = context.counter(
      "records_expired_total",
      "Records a database sink's retention deleted.",
    );
    const retention = options.retention;
    const byAge = retention.max_age === undefined
      ? undefined
      : db.prepare(`DELETE FROM "${table}" WHERE time < ?`);
    const byRows = retention.max_rows === undefined ? undefined : db.prepare(
      `DELETE FROM "${table}" WHERE rowid <= ` +
        `(SELECT rowid FROM "${table}" ORDER BY rowid DESC LIMIT 1 OFFSET ?)`,
    );
    const retain = () => {
      try {
        if (byAge) {
          expired.inc(Number(byAge.run(Date.now() - retention.max_age!).changes));
        }
        if (byRows) expired.inc(Number(byRows.run(retention.max_rows!).changes));
      } catch (error) {
        context.log.warnOnce(
          `sink:${context.id}:retention`,
          `Retention of sink "${context.id}" failed; it runs again in ${retention.every} ms`,
          error,
        );
      }
    };
    let timer: ReturnType<typeof setInterval> | undefined;
    if (byAge || byRows) {
      retain();
      timer = setInterval(retain, retention.every);
      Deno.unrefTimer(timer as unknown as number);
    }

    const writeSync = (records: readonly LogRecord[]) => {
      db.exec("BEGIN IMMEDIATE");
      try {
        for (let i = 0; i < records.length; i++) {
          const record = records[i]!;
          if (!Number.isFinite(record.time)) {
            onBadRecord(record, new RangeError(`Record time ${record.time} is not a number`));
            continue;
          }
          const row = logRowOf(record, service);
          insert.run(
            Math.trunc(row.time),
            row.level,
            row.logger,
            row.message,
            row.trace_id,
            row.span_id,
            row.service,
            row.fields,
            row.error,
          );
        }
        db.exec("COMMIT");
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw new Error(
          `Cannot write to table "${table}" in "${path}": ${messageOf(error)}`,
          { cause: error },
        );
      }
    };
    return {
      writeSync,
      write: writeSync,
      [Symbol.asyncDispose]() {
        clearInterval(timer);
        if (db.isOpen) {
          try {
            db.exec("PRAGMA optimize");
          } finally {
            db.close();
          }
        }
        return Promise.resolve();
      },
    };
  },
});

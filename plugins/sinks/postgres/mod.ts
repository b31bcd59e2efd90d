/**
 * The `postgres` sink: records into a PostgreSQL table, queryable with
 * `sluice query --postgres`.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { importNpm } from "../../../src/core/import_npm.ts";
import { messageOf } from "../../../src/core/message_of.ts";
import { DeliveryError } from "../../../src/plugin/delivery_error.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { formatErrorReporter } from "../../../src/plugin/format_error_reporter.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import { s } from "../../../src/schema/schema.ts";
import { retentionOption, tableOption } from "../../../src/store/log_store_options.ts";
import { logRowOf } from "../../../src/store/log_table.ts";
import type { PostgresModule } from "./postgres_api.ts";
import { preparePostgresTable, TableMismatchError } from "./postgres_table.ts";

/** PostgreSQL refuses NUL in text and `\u0000` in jsonb; both become U+FFFD. */
// deno-lint-ignore no-control-regex -- NUL is exactly what PostgreSQL text refuses
const NUL = /\u0000/g;
const JSON_NUL = /\\u0000/g;

/**
 * Writes each batch with one `INSERT … SELECT FROM unnest(…)` per `batch.max_records`
 * records: one round trip and one statement for a thousand rows. The table has an identity
 * `id` and the columns `time` (timestamptz), `level`, `logger`, `message`, `trace_id`,
 * `span_id`, `service`, `fields` (jsonb) and `error` (jsonb), indexed on time, level, service
 * and trace id — the schema of the `sqlite` sink. It is created when missing and migrated when
 * older (missing columns and indexes added) in a transaction that holds an advisory lock on
 * the table's name, so aggregators starting together do not race. A column of another type
 * stops the start.
 *
 * The sink starts when the database does not answer: the table is prepared before the first
 * write that reaches it, each failed write is retried by the pipeline with back-off (the
 * client reconnects on the next query), then handed to the `fallback`. While a write is in
 * flight the sink's queue fills, and sources wait: that is the back-pressure. A batch the
 * database refuses as data (a data exception, SQLSTATE class 22) is split to find the
 * records at fault: only they go to the fallback (or are dropped, counted with reason
 * `postgres_<sqlstate>`). `retention` deletes by age or keeps the newest `max_rows`,
 * counted in `sluice_records_expired_total`.
 *
 * `url` holds the connection string; a password in it must come from the environment
 * (`url: ${DATABASE_URL}`), and `sluice permissions` prints its host.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   db:
 *     type: postgres
 *     url: \${DATABASE_URL}
 *     table: logs
 *     retention: { max_age: 30d }
 * `;
 * const env = { DATABASE_URL: "postgres://sluice:pw@db.internal:5432/logs" };
 * const { config } = await parseConfigText(yaml, "aggregator.yaml", { env });
 * assert.equal(config.sinks.db?.options.table, "logs");
 * ```
 */
export default definePlugin({
  kind: "sink",
  type: "postgres",
  description:
    "Records into a PostgreSQL table (batched unnest inserts, jsonb fields, indexes, advisory-locked migration, retention).",
  options: s.object({
    url: s.secret().describe(
      "The connection string, postgres://user@host:port/db; give it as ${VAR} when it holds a password.",
    ),
    table: tableOption(),
    service: s.string({ minLength: 1 }).optional().describe(
      "The service column of records that have no `service` field.",
    ),
    retention: retentionOption(),
    batch: s.object({
      max_records: s.integer({ min: 1, max: 100_000 }).default(2000).describe(
        "Most rows per INSERT statement.",
      ),
    }).default({ max_records: 2000 }),
    max_connections: s.integer({ min: 1, max: 100 }).default(2).describe(
      "Connections in the pool (writes are one at a time; retention and reconnects use the rest).",
    ),
    connect_timeout: s.duration().default(10_000).describe(
      "Give up one connection attempt after this long.",
    ),
  }, {
    refine(options, path, ctx) {
      let url: URL;
      try {
        url = new URL(options.url.value);
      } catch {
        ctx.issues.push({
          path: [...path, "url"],
          message: "Expected a postgres:// or postgresql:// URL",
        });
        return;
      }
      if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
        ctx.issues.push({
          path: [...path, "url"],
          message: `Expected a postgres:// or postgresql:// URL, got ${url.protocol}//`,
        });
      }
      if (url.password !== "" && !options.url.fromEnvironment) {
        ctx.issues.push({
          path: [...path, "url"],
          message: "The URL holds a password written into the config, where it leaks through " +
            "version control, backups and config dumps",
          hint: "write url: ${DATABASE_URL} and set the variable",
        });
      }
    },
  }),
  permissions(options) {
    const url = new URL(options.url.value);
    return { net: [`${url.hostname || "localhost"}:${url.port || "5432"}`] };
  },
  async create(options, context) {
    const table = options.table;
    const where = `table "${table}" at ${safeUrl(options.url.value)}`;
    // The client loads here, not with the plugin: checking a config needs no npm package. The
    // full specifier, deno.json's range; src/cli/npm_packages.ts names it for the CLI.
    const { default: postgres } = await importNpm<PostgresModule>("npm:postgres@^3.4.9");
    const sql = postgres(options.url.value, {
      max: options.max_connections,
      connect_timeout: Math.ceil(options.connect_timeout / 1000),
      onnotice: () => {},
    });
    const onBadRecord = formatErrorReporter(context);
    const expired = context.counter(
      "records_expired_total",
      "Records a database sink's retention deleted.",
    );
    let prepared: Promise<void> | undefined;
    let fatal: Error | undefined;
    const prepare = (): Promise<void> =>
      prepared ??= preparePostgresTable(sql, table).then((added) => {
        if (added.length > 0) {
          context.log.info(`Sink "${context.id}" added column(s) ${added.join(", ")} to ${where}`);
        }
      }, (error) => {
        prepared = undefined;
        if (error instanceof TableMismatchError) fatal = error;
        throw error;
      });
    try {
      await prepare();
    } catch (error) {
      if (fatal) {
        await sql.end({ timeout: 1 });
        throw new PluginError(`Cannot open sink "${context.id}": ${fatal.message}`, {
          cause: fatal,
        });
      }
      context.log.warnOnce(
        `sink:${context.id}:connect`,
        `Sink "${context.id}" cannot reach ${where} yet; its writes are retried`,
        error,
      );
    }

    const service = options.service ?? null;
    const insertText = `INSERT INTO "${table}" ` +
      "(time, level, logger, message, trace_id, span_id, service, fields, error) " +
      "SELECT to_timestamp(t / 1000), l, g, m, tr, sp, sv, f::jsonb, e::jsonb FROM " +
      "unnest($1::float8[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::text[], " +
      "$7::text[], $8::text[], $9::text[]) AS r(t, l, g, m, tr, sp, sv, f, e)";
    const insert = async (records: readonly LogRecord[]): Promise<void> => {
      const columns: unknown[][] = [[], [], [], [], [], [], [], [], []];
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        if (!Number.isFinite(record.time)) {
          onBadRecord(record, new RangeError(`Record time ${record.time} is not a number`));
          continue;
        }
        const row = logRowOf(record, service);
        columns[0]!.push(row.time);
        columns[1]!.push(row.level);
        columns[2]!.push(clean(row.logger));
        columns[3]!.push(clean(row.message));
        columns[4]!.push(row.trace_id);
        columns[5]!.push(row.span_id);
        columns[6]!.push(row.service === null ? null : clean(row.service));
        columns[7]!.push(row.fields.replace(JSON_NUL, "\\ufffd"));
        columns[8]!.push(row.error === null ? null : row.error.replace(JSON_NUL, "\\ufffd"));
      }
      if (columns[0]!.length === 0) return;
      await sql.unsafe(insertText, columns, { prepare: true });
    };
    /** Inserts rows one by one to find those the database refuses; returns them. */
    const refusedOf = async (records: readonly LogRecord[]) => {
      const refused: { record: LogRecord; error: { code?: string; message: string } }[] = [];
      for (const record of records) {
        try {
          await insert([record]);
        } catch (error) {
          if (!isDataError(error)) throw error;
          refused.push({ record, error: error as { code: string; message: string } });
        }
      }
      return refused;
    };

    const write = async (records: readonly LogRecord[]): Promise<void> => {
      if (fatal) {
        throw new DeliveryError(`Cannot write to ${where}: ${fatal.message}`, "table_mismatch");
      }
      await prepare();
      const size = options.batch.max_records;
      const refused: { record: LogRecord; error: { code?: string; message: string } }[] = [];
      for (let start = 0; start < records.length; start += size) {
        const chunk = records.slice(start, start + size);
        try {
          try {
            await insert(chunk);
          } catch (error) {
            if (!isDataError(error)) throw error;
            refused.push(...await refusedOf(chunk));
          }
        } catch (error) {
          // The chunks before `start` are committed: only the rest is retried.
          throw Object.assign(
            new Error(`Cannot write to ${where}: ${messageOf(error)}`, { cause: error }),
            { records: records.slice(start) },
          );
        }
      }
      if (refused.length > 0) {
        const first = refused[0]!.error;
        throw new DeliveryError(
          `The database refused ${refused.length} record(s) of a batch for ${where}: ${first.message}`,
          `postgres_${first.code ?? "error"}`,
          false,
          { cause: first, records: refused.map((r) => r.record) },
        );
      }
    };

    const retention = options.retention;
    const retain = async () => {
      try {
        await prepare();
        if (retention.max_age !== undefined) {
          const cutoff = new Date(Date.now() - retention.max_age);
          const deleted = await sql.unsafe(`DELETE FROM "${table}" WHERE time < $1`, [cutoff]);
          expired.inc(deleted.count);
        }
        if (retention.max_rows !== undefined) {
          const deleted = await sql.unsafe(
            `DELETE FROM "${table}" WHERE id <= ` +
              `(SELECT id FROM "${table}" ORDER BY id DESC OFFSET $1 LIMIT 1)`,
            [retention.max_rows],
          );
          expired.inc(deleted.count);
        }
      } catch (error) {
        context.log.warnOnce(
          `sink:${context.id}:retention`,
          `Retention of sink "${context.id}" failed; it runs again in ${retention.every} ms`,
          error,
        );
      }
    };
    let timer: ReturnType<typeof setInterval> | undefined;
    let retaining: Promise<void> = Promise.resolve();
    if (retention.max_age !== undefined || retention.max_rows !== undefined) {
      retaining = retain();
      timer = setInterval(() => retaining = retaining.then(retain), retention.every);
      Deno.unrefTimer(timer as unknown as number);
    }
    return {
      write,
      async [Symbol.asyncDispose]() {
        clearInterval(timer);
        await retaining;
        await sql.end({ timeout: 5 });
      },
    };
  },
});

function clean(text: string): string {
  return text.includes("\u0000") ? text.replace(NUL, "\ufffd") : text;
}

/** A data exception (SQLSTATE class 22): the rows are at fault, not the connection. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("22");
}

/** The URL without its password, for messages. */
function safeUrl(text: string): string {
  try {
    const url = new URL(text);
    url.password = "";
    return url.toString();
  } catch {
    return "(the configured url)";
  }
}

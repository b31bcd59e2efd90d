/**
 * `sluice query`: reads the records a `sqlite` or `postgres` sink stored, filtered.
 *
 * @module
 */

// Full npm: specifiers, not import map names: a user's script imports this package from
// anywhere, by path or URL, where no import map names them (tests/package/).
// deno-lint-ignore-file no-import-prefix
import { parseLevel } from "../../core/levels.ts";
import { writeAllSync } from "../../io/write_all_sync.ts";
import type { Formatter } from "../../plugin/types.ts";
import { parseDuration } from "../../schema/schema.ts";
import { type LogFilter, logQuery } from "../../store/log_query.ts";
import { recordOfRow, type StoredRow } from "../../store/log_table.ts";
import type { Command } from "../command.ts";
import { parseFlags } from "../parse_flags.ts";
import { UsageError } from "../usage_error.ts";
import { messageOf } from "../../core/message_of.ts";

/** Where the command writes, its clock and environment (the process's by default). */
export interface QueryIo {
  /** Receives the records, one per line. */
  stdout?: (text: string) => void;
  /** The current time (epoch ms), for `--since`. */
  now?: () => number;
  /** Reads an environment variable (`--postgres-env`). */
  getEnv?: (name: string) => string | undefined;
}

const HELP = `Prints the records a sqlite or postgres sink stored, oldest first: the newest --limit
records that match every filter given.

  --sqlite FILE         the database file of a sqlite sink
  --postgres URL        the database of a postgres sink (postgres://user@host:port/db)
  --postgres-env NAME   the same, read from the environment variable NAME (keeps a
                        password off the command line and out of the shell history)
  --table NAME          the table (default logs)
  --level LEVEL         records at this level or above (trace … critical)
  --since DURATION      records of the last 5m, 2h, 7d … (or since an ISO 8601 time)
  --service NAME        records of this service
  --trace ID            records of this trace id
  --grep TEXT           records whose message or fields contain TEXT (case-insensitive)
  --limit N             at most N records (default 100)
  --format text|json    one text line (the default) or one JSON object per record
`;

const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const encoder = new TextEncoder();

/** The parsed command line. */
interface QueryArgs {
  filter: LogFilter;
  table: string;
  format: "text" | "json";
  /** Exactly one of the two. */
  sqlite?: string;
  postgres?: string;
}

function parseQueryArgs(
  args: string[],
  now: number,
  getEnv: (name: string) => string | undefined,
): QueryArgs {
  const { values } = parseFlags(args, {
    sqlite: { type: "string" },
    postgres: { type: "string" },
    "postgres-env": { type: "string" },
    table: { type: "string" },
    level: { type: "string" },
    since: { type: "string" },
    service: { type: "string" },
    trace: { type: "string" },
    grep: { type: "string" },
    limit: { type: "string" },
    format: { type: "string" },
  });
  const v = values as Record<string, string | undefined>;
  let postgres = v.postgres;
  const envName = v["postgres-env"];
  if (envName !== undefined) {
    postgres = getEnv(envName);
    if (postgres === undefined || postgres === "") {
      throw new UsageError(`--postgres-env ${envName}: the environment variable is not set`);
    }
  }
  const given = [v.sqlite, v.postgres, envName].filter((x) => x !== undefined).length;
  if (given === 0) {
    throw new UsageError("Missing --sqlite FILE, --postgres URL or --postgres-env NAME");
  }
  if (given > 1) {
    throw new UsageError("Give one of --sqlite, --postgres and --postgres-env");
  }
  const table = v.table ?? "logs";
  if (!TABLE.test(table)) {
    throw new UsageError(`--table "${table}" is not an SQL identifier (letters, digits, _)`);
  }
  const format = v.format ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--format "${format}" is not one of text, json`);
  }
  const limit = v.limit === undefined ? 100 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError(`--limit "${v.limit}" is not a positive integer`);
  }
  const filter: LogFilter = { limit };
  if (v.level !== undefined) {
    const level = parseLevel(v.level);
    if (level === undefined) {
      throw new UsageError(`--level "${v.level}" is not a level (trace … critical)`);
    }
    filter.minLevel = level;
  }
  if (v.since !== undefined) {
    const ago = parseDuration(v.since);
    const at = ago === undefined ? Date.parse(v.since) : now - ago;
    if (!Number.isFinite(at)) {
      throw new UsageError(`--since "${v.since}" is neither a duration (5m, 2h) nor a time`);
    }
    filter.since = at;
  }
  if (v.service !== undefined) filter.service = v.service;
  if (v.trace !== undefined) filter.traceId = v.trace;
  if (v.grep !== undefined) filter.grep = v.grep;
  return {
    filter,
    table,
    format,
    ...(v.sqlite !== undefined ? { sqlite: v.sqlite } : {}),
    ...(postgres !== undefined ? { postgres } : {}),
  };
}

async function formatterOf(format: "text" | "json"): Promise<Formatter> {
  const plugin = format === "text"
    ? (await import("../../../plugins/formatters/text/mod.ts")).default
    : (await import("../../../plugins/formatters/json/mod.ts")).default;
  const options = plugin.options.parse({}, [], { issues: [] })!;
  return plugin.create(options as never, undefined as never) as Formatter;
}

async function querySqlite(file: string, table: string, filter: LogFilter): Promise<StoredRow[]> {
  const { DatabaseSync } = await import("node:sqlite");
  try {
    await Deno.stat(file);
  } catch (error) {
    throw new Error(`Cannot open database "${file}": ${messageOf(error)}`, {
      cause: error,
    });
  }
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const query = logQuery("sqlite", table, filter);
    return db.prepare(query.text).all(...query.params) as unknown as StoredRow[];
  } catch (error) {
    throw new Error(`Cannot query table "${table}" in "${file}": ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    db.close();
  }
}

async function queryPostgres(url: string, table: string, filter: LogFilter): Promise<StoredRow[]> {
  const { default: postgres } = await import("npm:postgres@^3.4.9");
  const where = `table "${table}" at ${withoutPassword(url)}`;
  let sql;
  try {
    sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  } catch (error) {
    throw new Error(`Cannot open ${where}: ${messageOf(error)}`, { cause: error });
  }
  try {
    const query = logQuery("postgres", table, filter);
    return await sql.unsafe(query.text, query.params) as unknown as StoredRow[];
  } catch (error) {
    throw new Error(`Cannot query ${where}: ${messageOf(error)}`, { cause: error });
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The URL without its password, for messages. */
function withoutPassword(text: string): string {
  try {
    const url = new URL(text);
    url.password = "";
    return url.toString();
  } catch {
    return "(the given URL)";
  }
}

/**
 * The `query` command.
 *
 * @example A missing database is a usage error (`sluice` prints the usage and exits 2)
 * ```ts
 * import assert from "node:assert/strict";
 * import query from "./query.ts";
 * import { UsageError } from "../usage_error.ts";
 * await assert.rejects(query.run(["--level", "error"]), UsageError);
 * ```
 */
const query = {
  name: "query",
  usage:
    "query --sqlite FILE|--postgres URL|--postgres-env NAME [--level L] [--since 5m] [--service S] [--trace ID] " +
    "[--grep TEXT] [--limit N] [--format text|json]",
  summary: "Print stored records from a sqlite or PostgreSQL database, filtered",
  help: HELP,
  async run(args: string[], io: QueryIo = {}): Promise<number> {
    const stdout = io.stdout ?? ((text: string) => writeAllSync(Deno.stdout, encoder.encode(text)));
    const getEnv = io.getEnv ?? ((name: string) => Deno.env.get(name));
    const parsed = parseQueryArgs(args, (io.now ?? Date.now)(), getEnv);
    const rows = parsed.sqlite !== undefined
      ? await querySqlite(parsed.sqlite, parsed.table, parsed.filter)
      : await queryPostgres(parsed.postgres!, parsed.table, parsed.filter);
    const format = await formatterOf(parsed.format);
    const decoder = new TextDecoder();
    let out = "";
    // Newest first from the database; printed oldest first, like a log file.
    for (let i = rows.length - 1; i >= 0; i--) {
      const line = format(recordOfRow(rows[i]!));
      out += (typeof line === "string" ? line : decoder.decode(line)) + "\n";
    }
    if (out !== "") stdout(out);
    return 0;
  },
};

export default query satisfies Command;

/**
 * `sluice tap`: prints the records flowing through a running `sluice run`, like `vector tap`.
 *
 * @module
 */

import { parseLevel } from "../../core/levels.ts";
import { formatLogfmtPairs } from "../../format/logfmt_pairs.ts";
import { writeAllSync } from "../../io/write_all_sync.ts";
import { parseDuration } from "../../schema/units.ts";
import type { Command } from "../command.ts";
import {
  connection,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  LiveConnectError,
  liveEvents,
} from "../live_client.ts";
import { parseFlags } from "../parse_flags.ts";
import { UsageError } from "../usage_error.ts";

/** Where the command writes and reads (the process's by default; tests pass their own). */
export interface TapIo {
  /** Receives the records. */
  stdout?: (text: string) => void;
  /** Receives notices (records this tap missed, the stream's end). */
  stderr?: (text: string) => void;
  /** Reads an environment variable (the token). */
  getEnv?: (name: string) => string | undefined;
  /** Ends the tap (Ctrl-C by default). */
  signal?: AbortSignal;
}

const HELP = `Prints the records flowing through a running sluice run, as they pass: every
source's and processor's output, or the components named. Reading never slows the
pipeline: when this tap reads too slowly its records are dropped (said on stderr, counted in
sluice_tap_records_dropped_total).

${CONNECTION_HELP}
  --component ID        a component's records (repeatable; * is a wildcard); a sink's id
                        taps the records reaching it
  --level LEVEL         records at this level or above (trace … critical)
  --logger NAME         records of this logger and its children
  --field KEY=VALUE     records whose field KEY is VALUE (repeatable; dotted keys reach in)
  --format text|json    one text line per record (the default) or one JSON object
  --count N             exit after N records
  --duration DURATION   exit after this long (such as 30s)
  --limit N             records buffered for this tap on the server (default 1000)
`;

const encoder = new TextEncoder();

/** One record of the stream as a text line: time, level, component, logger, message, fields. */
export function tapLine(record: Record<string, unknown>): string {
  const fields = (record.fields ?? {}) as Record<string, unknown>;
  const extra: Record<string, unknown> = { ...fields };
  for (const key of ["trace_id", "span_id"] as const) {
    if (record[key] !== undefined) extra[key] = record[key];
  }
  const error = record.error as { name?: string; message?: string } | undefined;
  if (error) extra.error = `${error.name ?? "Error"}: ${error.message ?? ""}`;
  const pairs = formatLogfmtPairs(extra);
  const logger = record.logger ? ` ${record.logger}:` : "";
  return `${record.time} ${
    String(record.level).padEnd(5)
  } [${record.component}]${logger} ${record.message}${pairs ? ` ${pairs}` : ""}`;
}

/** Runs `sluice tap` with its arguments; resolves to the exit code. */
export async function runTap(args: string[], io: TapIo = {}): Promise<number> {
  const { values } = parseFlags(args, {
    ...CONNECTION_FLAGS,
    component: { type: "string", short: "c", multiple: true },
    level: { type: "string" },
    logger: { type: "string" },
    field: { type: "string", multiple: true },
    format: { type: "string" },
    count: { type: "string" },
    duration: { type: "string" },
    limit: { type: "string" },
  });
  const { url, token } = connection(values, io.getEnv ?? ((name) => Deno.env.get(name)));
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`Invalid --format "${String(format)}"; expected text or json`);
  }
  const query = new URLSearchParams({ events: "records" });
  for (const id of (values.component ?? []) as string[]) query.append("component", id);
  if (typeof values.level === "string") {
    if (parseLevel(values.level) === undefined) {
      throw new UsageError(
        `Invalid --level "${values.level}"; expected trace, debug, info, warn, error or critical`,
      );
    }
    query.set("level", values.level);
  }
  if (typeof values.logger === "string") query.set("logger", values.logger);
  for (const pair of (values.field ?? []) as string[]) {
    if (pair.indexOf("=") <= 0) {
      throw new UsageError(`Invalid --field "${pair}"; expected KEY=VALUE`);
    }
    query.append("field", pair);
  }
  if (typeof values.limit === "string") query.set("limit", values.limit);
  const count = whole(values.count, "--count");
  const stop = new AbortController();
  io.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (typeof values.duration === "string") {
    const ms = parseDuration(values.duration);
    if (ms === undefined) {
      throw new UsageError(`Invalid --duration "${values.duration}"; expected such as 30s`);
    }
    timer = setTimeout(() => stop.abort(), ms);
  }
  const onSigint = () => stop.abort();
  if (!io.signal) Deno.addSignalListener("SIGINT", onSigint);
  const stdout = io.stdout ?? ((text: string) => writeAllSync(Deno.stdout, encoder.encode(text)));
  const stderr = io.stderr ?? ((text: string) => writeAllSync(Deno.stderr, encoder.encode(text)));
  let seen = 0;
  try {
    for await (const event of liveEvents(url, token, query, stop.signal)) {
      if (event.event === "lost") {
        const { records } = JSON.parse(event.data);
        stderr(
          `sluice tap: ${records} records not shown (this tap read too slowly; the pipeline is not slowed)\n`,
        );
        continue;
      }
      if (event.event !== "record") continue;
      stdout(format === "json" ? `${event.data}\n` : `${tapLine(JSON.parse(event.data))}\n`);
      if (++seen === count) {
        stop.abort();
        break;
      }
    }
    if (!stop.signal.aborted) stderr(`sluice tap: ${url} ended the stream (shutting down)\n`);
    return 0;
  } catch (error) {
    if (error instanceof LiveConnectError) {
      stderr(`sluice tap: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    clearTimeout(timer);
    if (!io.signal) Deno.removeSignalListener("SIGINT", onSigint);
  }
}

/** A positive whole number flag, or `undefined` when absent. */
export function whole(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`Invalid ${flag} "${String(value)}"; expected a whole number from 1`);
  }
  return n;
}

/**
 * `sluice tap`: see {@linkcode runTap}.
 *
 * @example Usage
 * ```ts
 * import tap from "./tap.ts";
 * import assert from "node:assert/strict";
 * assert.ok(tap.usage?.startsWith("tap "));
 * ```
 */
const tap: Command = {
  name: "tap",
  summary: "Print the records flowing through a running sluice run (filtered, text or JSON)",
  usage:
    "tap [--url URL] [--component ID]… [--level LEVEL] [--logger NAME] [--field K=V]… [--format text|json]",
  help: HELP,
  run: (args) => runTap(args),
};

export default tap;

/**
 * `sluice top`: a live table of a running `sluice run`'s components, like `vector top`.
 *
 * @module
 */

import { writeAllSync } from "../../io/write_all_sync.ts";
import { parseDuration } from "../../schema/units.ts";
import type { ComponentStats } from "../../server/component_stats.ts";
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
import { whole } from "./tap.ts";

/** Where the command writes and reads (the process's by default; tests pass their own). */
export interface TopIo {
  /** Receives the frames. */
  stdout?: (text: string) => void;
  /** Receives errors. */
  stderr?: (text: string) => void;
  /** Reads an environment variable (the token). */
  getEnv?: (name: string) => string | undefined;
  /** Whether stdout is a terminal (then each frame replaces the last). */
  isTerminal?: boolean;
  /** Ends it (Ctrl-C by default). */
  signal?: AbortSignal;
}

const HELP = `Shows every component of a running sluice run with its records in, out and dropped
per second, its totals and, for sinks, the queue depth and health; refreshed every
--interval. On a terminal each frame replaces the last; otherwise frames follow each other,
separated by an empty line.

${CONNECTION_HELP}
  --interval DURATION   how often to refresh (default 1s, 100ms to 60s)
  --count N             exit after N frames
`;

const encoder = new TextEncoder();
const HEADINGS = [
  "ID",
  "KIND",
  "IN/S",
  "OUT/S",
  "DROP/S",
  "IN",
  "OUT",
  "DROPPED",
  "QUEUE",
  "STATUS",
];

/** A per-second rate as the table shows it: whole above 10, one decimal below. */
function rate(value: number | undefined): string {
  if (value === undefined) return "-";
  return value >= 10 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
}

/**
 * One frame of the table: a heading line, then a line per component, columns aligned.
 *
 * @example A frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { topFrame } from "./top.ts";
 * const frame = topFrame([{
 *   id: "out", kind: "sink", records_in: 1200, records_out: 1200, records_dropped: 0,
 *   records_rejected: 0, errors: 0, in_per_sec: 400, out_per_sec: 400, dropped_per_sec: 0,
 *   queue_depth: 3,
 * }]);
 * assert.match(frame, /^ID\s+KIND\s+IN\/S/);
 * assert.match(frame, /\nout\s+sink\s+400\s+400\s+0\.0\s+1,200\s+1,200\s+0\s+3\s+ok\n$/);
 * ```
 */
export function topFrame(components: readonly ComponentStats[]): string {
  const rows = components.map((c) => [
    c.id,
    c.kind,
    rate(c.in_per_sec),
    rate(c.out_per_sec),
    rate(c.dropped_per_sec),
    c.records_in.toLocaleString("en-US"),
    c.records_out.toLocaleString("en-US"),
    c.records_dropped.toLocaleString("en-US"),
    c.queue_depth === undefined ? "-" : c.queue_depth.toLocaleString("en-US"),
    c.kind === "sink" ? c.problem ?? "ok" : "-",
  ]);
  const widths = HEADINGS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)).join("  ")
      .trimEnd();
  return [line(HEADINGS), ...rows.map(line)].join("\n") + "\n";
}

/** Runs `sluice top`; resolves to the exit code. */
export async function runTop(args: string[], io: TopIo = {}): Promise<number> {
  const { values } = parseFlags(args, {
    ...CONNECTION_FLAGS,
    interval: { type: "string" },
    count: { type: "string" },
  });
  const { url, token } = connection(values, io.getEnv ?? ((name) => Deno.env.get(name)));
  const intervalText = typeof values.interval === "string" ? values.interval : "1s";
  const interval = parseDuration(intervalText);
  if (interval === undefined || interval < 100 || interval > 60_000) {
    throw new UsageError(`Invalid --interval "${intervalText}"; expected 100ms to 60s`);
  }
  const count = whole(values.count, "--count");
  const stop = new AbortController();
  io.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onSigint = () => stop.abort();
  if (!io.signal) Deno.addSignalListener("SIGINT", onSigint);
  const stdout = io.stdout ?? ((text: string) => writeAllSync(Deno.stdout, encoder.encode(text)));
  const stderr = io.stderr ?? ((text: string) => writeAllSync(Deno.stderr, encoder.encode(text)));
  const terminal = io.isTerminal ?? Deno.stdout.isTerminal();
  const query = new URLSearchParams({ events: "components", interval: `${interval}ms` });
  let frames = 0;
  try {
    for await (const event of liveEvents(url, token, query, stop.signal)) {
      if (event.event !== "components") continue;
      const { time, components } = JSON.parse(event.data);
      const title = `sluice top: ${url}  ${new Date(time).toISOString()}\n\n`;
      const frame = title + topFrame(components);
      // Home and clear below: the table redraws in place without scrolling.
      stdout(terminal ? `\x1b[H\x1b[2J${frame}` : `${frames > 0 ? "\n" : ""}${frame}`);
      if (++frames === count) {
        stop.abort();
        break;
      }
    }
    if (!stop.signal.aborted) stderr(`sluice top: ${url} ended the stream (shutting down)\n`);
    return 0;
  } catch (error) {
    if (error instanceof LiveConnectError) {
      stderr(`sluice top: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    if (!io.signal) Deno.removeSignalListener("SIGINT", onSigint);
  }
}

/**
 * `sluice top`: see {@linkcode runTop}.
 *
 * @example Usage
 * ```ts
 * import top from "./top.ts";
 * import assert from "node:assert/strict";
 * assert.ok(top.usage?.startsWith("top "));
 * ```
 */
const top: Command = {
  name: "top",
  summary: "Show a live table of a running sluice run's components (records/s, queues, health)",
  usage: "top [--url URL] [--interval 1s] [--count N]",
  help: HELP,
  run: (args) => runTop(args),
};

export default top;

/**
 * `sluice buffer check DIR`: verifies every segment of the disk buffers under a directory
 * and reports what each sink has pending.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { parseFlags } from "../parse_flags.ts";
import { UsageError } from "../usage_error.ts";
import { type BufferReport, checkBuffers } from "../../pipeline/disk_buffer/check_buffers.ts";

const HELP = `Subcommands:
  check DIR   Reads every segment of every disk buffer under DIR (a data_dir, its buffers/
              directory, or one sink's buffer directory) and checks each frame's length,
              checksum and records, changing nothing (a running agent's buffers can be checked). Prints,
              per sink, the records and bytes not yet delivered and the oldest one's age, then
              every corrupt region (segment and offset) and every segment that cannot be read.
              Exit code 0 when every segment checks out, 1 when any is damaged or unreadable.

  --json      print the reports as a JSON array instead
`;

const int = (n: number) => n.toLocaleString("en-US");

/** The lines `sluice buffer check` prints for one buffer; `problems` counts what fails it. */
function describe(report: BufferReport, now: number): { lines: string[]; problems: number } {
  const name = report.sink;
  const age = report.oldestTime === undefined
    ? ""
    : `, oldest appended ${new Date(report.oldestTime).toISOString()} (${
      Math.max(0, Math.round((now - report.oldestTime) / 1000))
    } s ago)`;
  const lines = [
    `${name}: ${int(report.records)} records pending (${int(report.bytes)} bytes in ${
      int(report.segments)
    } segment${report.segments === 1 ? "" : "s"}; ${int(report.diskBytes)} bytes on disk)${age}`,
  ];
  if (report.inFlight > 0) {
    lines.push(
      `${name}: the first ${int(report.inFlight)} were being delivered and may arrive twice`,
    );
  }
  if (report.ledger === "damaged") {
    lines.push(`${name}: the ledger is damaged; the next start may replay delivered records`);
  }
  if (report.delivered.length > 0) {
    lines.push(
      `${name}: ${report.delivered.length} delivered segment(s) not yet deleted (the next start deletes them)`,
    );
  }
  for (const c of report.corrupt) {
    lines.push(
      `${name}: corrupt: ${int(c.bytes)} bytes at offset ${c.offset} of ${c.segment}${
        c.tail ? " (a torn tail)" : ""
      }`,
    );
  }
  for (const u of report.unreadable) {
    lines.push(`${name}: unreadable: ${u.segment}: ${u.error}`);
  }
  for (const aside of report.movedAside) {
    lines.push(`${name}: moved aside earlier: ${aside} (its records are not replayed)`);
  }
  return { lines, problems: report.corrupt.length + report.unreadable.length };
}

/**
 * The `buffer` command.
 *
 * @example A directory without a buffer is an error (exit 1 with its message)
 * ```ts
 * import buffer from "./buffer.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * try {
 *   await assert.rejects(() => buffer.run(["check", dir]), /No disk buffer in/);
 * } finally {
 *   Deno.removeSync(dir);
 * }
 * ```
 */
const buffer = {
  name: "buffer",
  usage: "buffer check [--json] DIR",
  summary: "Verify disk buffers and report what each sink has pending",
  help: HELP,
  // async without await: a throw becomes a rejection, as the Command contract expects.
  // deno-lint-ignore require-await
  async run(args: string[], now: () => number = Date.now): Promise<number> {
    const parsed = parseFlags(args, { json: { type: "boolean" } }, true);
    const [sub, dir, ...extra] = parsed.positionals;
    if (sub !== "check") {
      throw new UsageError(
        sub === undefined ? "no subcommand given" : `unknown subcommand "${sub}"`,
      );
    }
    if (dir === undefined) throw new UsageError("no directory given");
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const reports = checkBuffers(dir);
    let problems = 0;
    const lines: string[] = [];
    for (const report of reports) {
      const described = describe(report, now());
      problems += described.problems;
      lines.push(...described.lines);
    }
    if (parsed.values.json) console.log(JSON.stringify(reports, null, 2));
    else {
      const records = reports.reduce((sum, r) => sum + r.records, 0);
      lines.push(
        `${reports.length} buffer${reports.length === 1 ? "" : "s"} checked: ${
          int(records)
        } records pending, ${problems === 0 ? "no damage" : `${problems} problem(s)`}`,
      );
      for (const line of lines) console.log(line);
    }
    return problems === 0 ? 0 : 1;
  },
} satisfies Command;

export default buffer;

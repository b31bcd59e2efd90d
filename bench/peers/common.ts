/**
 * What every per-peer script of `bench/peers.ts` shares: the workload, its arguments and the
 * report a child prints on its last stdout line.
 *
 * @module
 */

/** What a child measures. */
export type Mode = "json" | "text" | "disabled";

/** A child's arguments: `--mode json --n 1000000 --out /tmp/x.log [--variant v]`. */
export interface PeerArgs {
  /** The workload. */
  mode: Mode;
  /** Records to write (json, text) or calls to make (disabled). */
  n: number;
  /** The output file (json, text). */
  out: string;
  /** A peer-specific variant (which sink). */
  variant: string;
}

/** What a child prints as JSON on its last stdout line. */
export interface PeerReport {
  /** Milliseconds from the first call until every record is in the file (or the last call). */
  elapsedMs: number;
  /** The file's size when the peer said it was done; bytes that arrive later void the run. */
  bytesAtDone: number;
  /** Peak resident set size of the child (VmHWM), bytes. */
  peakRss: number;
}

/** The message of every record. */
export const MESSAGE = "request handled";
/** The four fields of record `i`: `id` identifies it for the loss check. */
export function fieldsOf(i: number): { id: number; user: string; path: string; status: number } {
  return { id: i, user: "ada", path: "/api/orders", status: 200 };
}

/** Parses the child's arguments. */
export function parseArgs(args: readonly string[]): PeerArgs {
  const get = (name: string, fallback?: string): string => {
    const i = args.indexOf(`--${name}`);
    const value = i === -1 ? fallback : args[i + 1];
    if (value === undefined) throw new Error(`Missing argument --${name}`);
    return value;
  };
  const mode = get("mode");
  if (mode !== "json" && mode !== "text" && mode !== "disabled") {
    throw new Error(`Unknown mode "${mode}"`);
  }
  return { mode, n: Number(get("n")), out: get("out", ""), variant: get("variant", "default") };
}

/** Peak RSS of this process from /proc/self/status (VmHWM), in bytes. */
export function peakRss(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(status);
  if (!match) throw new Error("VmHWM is missing from /proc/self/status");
  return Number(match[1]) * 1024;
}

/** Prints the report; `out` is stat-ed now, so bytes written after "done" are detected. */
export function report(elapsedMs: number, out: string): void {
  const bytesAtDone = out ? Deno.statSync(out).size : 0;
  const result: PeerReport = { elapsedMs, bytesAtDone, peakRss: peakRss() };
  console.log(JSON.stringify(result));
}

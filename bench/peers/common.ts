/**
 * What every per-peer script of `bench/peers.ts` shares: the workload, its arguments and the
 * report a child prints on its last stdout line.
 *
 * @module
 */

import process from "node:process";

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
  /** Disabled mode: nanoseconds per call of the fastest round. */
  nsPerCall?: number;
  /**
   * CPU time (user + system, every thread of the child) over the same interval as
   * `elapsedMs`, in ms, where the peer measures it: other processes' load inflates it much
   * less than wall time, so an A/B of the same workload reads it with less noise.
   */
  cpuMs?: number;
}

/** Disabled mode: the calls are timed in this many rounds (after one warm-up round). */
export const ROUNDS = 10;

/**
 * Times `loop(calls)` in {@linkcode ROUNDS} rounds of `total / ROUNDS` calls after one
 * warm-up round, and returns the nanoseconds per call of the fastest round: the usual
 * estimator for a few-nanosecond operation on a noisy machine. `loop` must make its calls in
 * its own `for` loop, so the call site is inlined the same way for every peer.
 */
export function bestRound(total: number, loop: (calls: number) => void): number {
  const calls = Math.max(1, Math.floor(total / ROUNDS));
  loop(calls);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    loop(calls);
    best = Math.min(best, performance.now() - start);
  }
  return (best * 1e6) / calls;
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

/** CPU time of this process so far (user + system, all its threads), in ms. */
export function cpuTime(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Prints the report; `out` is stat-ed now, so bytes written after "done" are detected. */
export function report(elapsedMs: number, out: string, nsPerCall?: number, cpuMs?: number): void {
  const bytesAtDone = out ? Deno.statSync(out).size : 0;
  const result: PeerReport = { elapsedMs, bytesAtDone, peakRss: peakRss() };
  if (nsPerCall !== undefined) result.nsPerCall = nsPerCall;
  if (cpuMs !== undefined) result.cpuMs = cpuMs;
  console.log(JSON.stringify(result));
}

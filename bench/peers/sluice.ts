/**
 * Sluice as a peer of `bench/peers.ts`: the logger source into a file sink.
 * Variants: none. Modes: json, text (the default text pattern), disabled.
 *
 * @module
 */

import { configure, flush, getLogger, shutdown } from "../../mod.ts";
import { bestRound, cpuTime, fieldsOf, MESSAGE, parseArgs, report } from "./common.ts";

const args = parseArgs(Deno.args);
const log = getLogger("bench");

if (args.mode === "disabled") {
  await configure({
    loggers: { "": "info" },
    sources: { app: { type: "logger" } },
    sinks: { file: { type: "file", path: args.out || "/dev/null", format: "json" } },
  });
  const ns = bestRound(args.n, (calls) => {
    for (let i = 0; i < calls; i++) log.debug(MESSAGE, { id: i });
  });
  await shutdown();
  report(ns * args.n / 1e6, "", ns);
} else {
  await configure({
    loggers: { "": "info" },
    sources: { app: { type: "logger" } },
    sinks: { file: { type: "file", path: args.out, format: args.mode } },
  });
  const cpuStart = cpuTime();
  const start = performance.now();
  for (let i = 0; i < args.n; i++) log.info(MESSAGE, fieldsOf(i));
  if (!await flush(120_000)) throw new Error("flush() did not finish");
  // The file is closed inside the clock, as the peers' end()/close()/dispose() are.
  await shutdown();
  const elapsed = performance.now() - start;
  report(elapsed, args.out, undefined, cpuTime() - cpuStart);
}

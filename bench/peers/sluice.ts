/**
 * Sluice as a peer of `bench/peers.ts`: the logger source into a file sink.
 * Variants: none. Modes: json, text (the default text pattern), disabled.
 *
 * @module
 */

import { configure, flush, getLogger, shutdown } from "../../mod.ts";
import { fieldsOf, MESSAGE, parseArgs, report } from "./common.ts";

const args = parseArgs(Deno.args);
const log = getLogger("bench");

if (args.mode === "disabled") {
  await configure({
    loggers: { "": "info" },
    sources: { app: { type: "logger" } },
    sinks: { file: { type: "file", path: args.out || "/dev/null", format: "json" } },
  });
  for (let i = 0; i < 1_000_000; i++) log.debug(MESSAGE, { id: i });
  const start = performance.now();
  for (let i = 0; i < args.n; i++) log.debug(MESSAGE, { id: i });
  const elapsed = performance.now() - start;
  await shutdown();
  report(elapsed, "");
} else {
  await configure({
    loggers: { "": "info" },
    sources: { app: { type: "logger" } },
    sinks: { file: { type: "file", path: args.out, format: args.mode } },
  });
  const start = performance.now();
  for (let i = 0; i < args.n; i++) log.info(MESSAGE, fieldsOf(i));
  if (!await flush(120_000)) throw new Error("flush() did not finish");
  const elapsed = performance.now() - start;
  report(elapsed, args.out);
  await shutdown();
}

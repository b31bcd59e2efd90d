/**
 * pino as a peer of `bench/peers.ts`. Variants: `async` (`pino.destination({ sync: false })`,
 * SonicBoom buffering in memory) and `sync` (one `writeSync` per record). Modes: json
 * (pino's only built-in output; text needs pino-pretty, a separate transport), disabled.
 *
 * @module
 */

// Peers are dev-only dependencies of bench/, pinned here so they never reach the library's imports.
// deno-lint-ignore no-import-prefix
import pino from "npm:pino@10.4.0";
import { bestRound, fieldsOf, MESSAGE, parseArgs, report } from "./common.ts";

const args = parseArgs(Deno.args);

if (args.mode === "disabled") {
  const logger = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: true }));
  const ns = bestRound(args.n, (calls) => {
    for (let i = 0; i < calls; i++) logger.debug({ id: i }, MESSAGE);
  });
  report(ns * args.n / 1e6, "", ns);
} else if (args.mode === "json") {
  const sync = args.variant === "sync";
  if (!sync && args.variant !== "async") throw new Error(`Unknown variant "${args.variant}"`);
  const dest = pino.destination({ dest: args.out, sync });
  await new Promise<void>((resolve) => dest.once("ready", () => resolve()));
  const logger = pino({ level: "info" }, dest);
  const start = performance.now();
  for (let i = 0; i < args.n; i++) logger.info(fieldsOf(i), MESSAGE);
  // end() writes what is buffered, then closes the file; "close" follows the last write.
  await new Promise<void>((resolve, reject) => {
    dest.once("close", () => resolve());
    dest.once("error", reject);
    dest.end();
  });
  report(performance.now() - start, args.out);
} else {
  throw new Error("pino has no built-in text output (pino-pretty is a separate transport)");
}

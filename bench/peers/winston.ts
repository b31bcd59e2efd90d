/**
 * winston as a peer of `bench/peers.ts`: its File transport. Modes: json
 * (`format.json()` with a timestamp), text (`format.printf`, the fields as key=value),
 * disabled.
 *
 * @module
 */

// Peers are dev-only dependencies of bench/, pinned here so they never reach the library's imports.
// deno-lint-ignore no-import-prefix
import winston from "npm:winston@3.19.0";
import { bestRound, fieldsOf, MESSAGE, parseArgs, report } from "./common.ts";

const args = parseArgs(Deno.args);
const { combine, timestamp, json, printf } = winston.format;

const format = args.mode === "text"
  ? combine(
    timestamp(),
    printf((info) =>
      `${info.timestamp} ${info.level} - ${info.message} id=${info.id} user=${info.user} path=${info.path} status=${info.status}`
    ),
  )
  : combine(timestamp(), json());
const transport = new winston.transports.File({
  filename: args.mode === "disabled" ? "/dev/null" : args.out,
});
const logger = winston.createLogger({ level: "info", format, transports: [transport] });

/** Ends the logger and resolves once the File transport has written and closed its stream. */
function finished(): Promise<void> {
  return new Promise((resolve, reject) => {
    transport.once("finish", () => resolve());
    transport.once("error", reject);
    logger.end();
  });
}

if (args.mode === "disabled") {
  const ns = bestRound(args.n, (calls) => {
    for (let i = 0; i < calls; i++) logger.debug(MESSAGE, { id: i });
  });
  await finished();
  report(ns * args.n / 1e6, "", ns);
} else {
  const start = performance.now();
  for (let i = 0; i < args.n; i++) logger.info(MESSAGE, fieldsOf(i));
  await finished();
  report(performance.now() - start, args.out);
}

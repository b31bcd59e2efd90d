/**
 * LogTape as a peer of `bench/peers.ts`. Variants (sinks): `file` (`getFileSink`, synchronous,
 * 8 KiB buffer), `file64k` (the same with a 64 KiB buffer), `file_nb` (`getFileSink` with
 * `nonBlocking: true`), `streamfile` (`getStreamFileSink`, a node stream), `stream`
 * (`getStreamSink` on the file's WritableStream) and `stream_nb` (`getStreamSink` with
 * `nonBlocking: true`, which drops records when its buffer overflows). Modes: json
 * (`jsonLinesFormatter`), text (the default text formatter; the four fields are placed in
 * the message template, since it prints only the message), disabled.
 *
 * @module
 */

// Peers are dev-only dependencies of bench/, pinned here so they never reach the library's imports.
// deno-lint-ignore no-import-prefix
import * as logtape from "npm:@logtape/logtape@2.4.2";
// deno-lint-ignore no-import-prefix
import { getFileSink, getStreamFileSink } from "npm:@logtape/file@2.3.10";
import { bestRound, fieldsOf, MESSAGE, parseArgs, report } from "./common.ts";

const args = parseArgs(Deno.args);
const { configure, dispose, getLogger, getStreamSink, getTextFormatter, jsonLinesFormatter } =
  logtape;

function sinkFor(variant: string, path: string, formatter: logtape.TextFormatter): logtape.Sink {
  switch (variant) {
    case "file":
      return getFileSink(path, { formatter });
    case "file64k":
      return getFileSink(path, { formatter, bufferSize: 64 * 1024 });
    case "file_nb":
      return getFileSink(path, { formatter, nonBlocking: true });
    case "streamfile":
      return getStreamFileSink(path, { formatter });
    case "stream":
      return getStreamSink(Deno.openSync(path, { append: true, create: true }).writable, {
        formatter,
      });
    case "stream_nb":
      return getStreamSink(Deno.openSync(path, { append: true, create: true }).writable, {
        formatter,
        nonBlocking: true,
      });
    default:
      throw new Error(`Unknown variant "${variant}"`);
  }
}

const formatter = args.mode === "text" ? getTextFormatter() : jsonLinesFormatter;
const path = args.mode === "disabled" ? "/dev/null" : args.out;
await configure({
  sinks: { out: sinkFor(args.mode === "disabled" ? "file" : args.variant, path, formatter) },
  loggers: [
    { category: ["bench"], sinks: ["out"], lowestLevel: "info" },
    { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
  ],
});
const log = getLogger(["bench"]);

if (args.mode === "disabled") {
  const ns = bestRound(args.n, (calls) => {
    for (let i = 0; i < calls; i++) log.debug(MESSAGE, { id: i });
  });
  await dispose();
  report(ns * args.n / 1e6, "", ns);
} else {
  const template = args.mode === "text"
    ? MESSAGE + " id={id} user={user} path={path} status={status}"
    : MESSAGE;
  const start = performance.now();
  for (let i = 0; i < args.n; i++) log.info(template, fieldsOf(i));
  await dispose();
  report(performance.now() - start, args.out);
}

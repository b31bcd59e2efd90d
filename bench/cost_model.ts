/**
 * `deno run -A bench/cost_model.ts`: the cost model of TCP NDJSON into a file as JSON (issue
 * #18). Each stage runs in isolation over the same 100,000 lines of bench/pipeline.ts, its
 * input prepared by the stage before: read (a real loopback TCP connection fed by
 * bench/pipeline/tcp_sender.ts in another process), split (FrameDecoder cutting 64 KiB chunks
 * into decoded lines), parse (`JSON.parse` per line), build (`recordFromObject`), process (the
 * `redact` processor with its built-in patterns; the default path has none), format (the
 * `json` formatter) and write (the `file` sink's `writeSync` in batches of 1,000, which formats
 * too: write is its cost minus format). Costs are CPU time of this process (user + system,
 * `process.cpuUsage`), which other processes' load does not inflate as it does wall time;
 * stages run interleaved, medians over `--rounds` (default 9). Also the experiment of a JSON
 * serializer compiled per fields shape against `JSON.stringify` (see `compiledFields`).
 * Prints Markdown; writes nothing.
 *
 * @module
 */

import { join } from "node:path";
import process from "node:process";
import { FrameDecoder } from "../src/ingest/framing.ts";
import { JsonBlockReader } from "../src/parse/json_block_reader.ts";
import { recordFromObject } from "../src/parse/record_from_object.ts";
import { createRedactor } from "../plugins/processors/redact/mod.ts";
import { BUILTIN_PATTERN_NAMES } from "../plugins/processors/redact/patterns.ts";
import { safeStringify } from "../src/core/safe_stringify.ts";
import type { LogRecord } from "../mod.ts";
import { createBuiltin } from "./builtin.ts";
import { inputLine } from "./pipeline/input_line.ts";
import { BENCH_DIR, loadAverage, median } from "./report.ts";

const argv = Deno.args;
const flag = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(argv[i + 1]);
};
const N = flag("n", 100_000);
const ROUNDS = flag("rounds", 9);
const CHUNK = 65_536;

const text = Array.from({ length: N }, (_, i) => inputLine(i)).join("");
const bytes = new TextEncoder().encode(text);
const chunks: Uint8Array[] = [];
for (let o = 0; o < bytes.length; o += CHUNK) chunks.push(bytes.subarray(o, o + CHUNK));
const tempDir = await Deno.makeTempDir({ prefix: "sluice_cost_model_" });
const inputPath = join(tempDir, "input.ndjson");
await Deno.writeFile(inputPath, bytes);

/** CPU µs (user + system) of this process spent in `run`. */
async function cpu(run: () => unknown): Promise<{ cpu: number; wall: number }> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await run();
  const c = process.cpuUsage(c0);
  return { cpu: c.user + c.system, wall: (performance.now() - w0) * 1000 };
}

let sink = 0;
const lines: string[] = [];
const objects: Record<string, unknown>[] = [];
const records: LogRecord[] = [];
const processed: LogRecord[] = [];

async function readStage(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sender = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(BENCH_DIR, "pipeline", "tcp_sender.ts"),
      "--port",
      String(listener.addr.port),
      "--input",
      inputPath,
    ],
    stdout: "null",
  }).spawn();
  const conn = await listener.accept();
  const buf = new Uint8Array(CHUNK);
  let got = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += n;
  }
  conn.close();
  listener.close();
  await sender.status;
  if (got !== bytes.length) throw new Error(`Read ${got} of ${bytes.length} bytes`);
}

function splitStage(): void {
  lines.length = 0;
  const decoder = new FrameDecoder({
    mode: "newline",
    maxFrameBytes: 65_536,
    textDecoder: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }),
  });
  const handler = {
    frame: () => {
      throw new Error("Unexpected byte frame");
    },
    reject: (reason: string) => {
      throw new Error(reason);
    },
    line: (line: string) => void lines.push(line),
  };
  for (const chunk of chunks) decoder.push(chunk, handler);
  decoder.end(handler);
  if (lines.length !== N) throw new Error(`Split ${lines.length} lines`);
}

function parseStage(): void {
  objects.length = 0;
  for (const line of lines) objects.push(JSON.parse(line));
}

function buildStage(): void {
  records.length = 0;
  const now = Date.now();
  for (const object of objects) records.push(recordFromObject(object, now));
}

const redact = createRedactor({
  fields: ["password", "*.token", "card.number", "headers.authorization"],
  patterns: BUILTIN_PATTERN_NAMES,
  mode: "mask",
  mask: "[REDACTED]",
});
function processStage(): void {
  processed.length = 0;
  for (const record of records) processed.push(redact(record));
}

const json = createBuiltin("formatter", "json");
function formatStage(): void {
  for (const record of records) sink += String(json(record)).length;
}

const fileSink = createBuiltin("sink", "file", { path: join(tempDir, "out.log") }, tempDir);
function sinkStage(): void {
  for (let i = 0; i < N; i += 1000) fileSink.writeSync!(records.slice(i, i + 1000));
}

// The path since the WebAssembly scanner (issue #18): each read's complete lines decoded at
// once with a replacing decoder, scanned into records whose fields stay their JSON text, which
// the json formatter splices.
const blocks: { bytes: Uint8Array; text: string }[] = [];
for (let at = 0; at < bytes.length;) {
  const end = Math.min(at + CHUNK, bytes.length);
  const stop = end === bytes.length ? end : bytes.lastIndexOf(0x0a, end - 1);
  blocks.push({ bytes: bytes.subarray(at, stop), text: "" });
  at = stop + 1;
}
const replacing = new TextDecoder();
function decodeStage(): void {
  for (const block of blocks) block.text = replacing.decode(block.bytes);
}
const reader = new JsonBlockReader({ maxLineBytes: 65_536, tooLarge: "frame_too_large" });
const textRecords: LogRecord[] = [];
function scanStage(): void {
  textRecords.length = 0;
  const now = Date.now();
  for (const { bytes, text } of blocks) {
    if (!reader.read(bytes, text, now, textRecords, () => {})) throw new Error("Not ASCII");
  }
}
function processTextStage(): void {
  processed.length = 0;
  for (const record of textRecords) processed.push(redact(record));
}
function formatTextStage(): void {
  for (const record of textRecords) sink += String(json(record)).length;
}
function sinkTextStage(): void {
  for (let i = 0; i < N; i += 1000) fileSink.writeSync!(textRecords.slice(i, i + 1000));
}

/**
 * The experiment: the fields part of a JSON line from a serializer compiled for the fields'
 * key list (one `new Function` per shape, cached while consecutive records share it), in the
 * spirit of fast-json-stringify: keys pre-quoted, numbers concatenated, strings quoted directly
 * when they need no escaping, anything else through `JSON.stringify`.
 */
function compiledFields(): (fields: Record<string, unknown>) => string {
  let keys: string[] = [];
  let compiled: (f: Record<string, unknown>, s: (v: unknown) => string) => string = () => "";
  const value = (v: unknown): string => {
    if (typeof v === "string") {
      // Control characters, quotes, backslashes and surrogates need JSON.stringify.
      // deno-lint-ignore no-control-regex
      return /[\u0000-\u001f"\\\ud800-\udfff]/.test(v) ? JSON.stringify(v) : '"' + v + '"';
    }
    if (typeof v === "number" && Number.isFinite(v)) return "" + v;
    return safeStringify(v);
  };
  return (fields) => {
    let i = 0;
    let same = true;
    for (const key in fields) {
      if (keys[i++] !== key) {
        same = false;
        break;
      }
    }
    if (!same || i !== keys.length) {
      keys = Object.keys(fields);
      const body = keys.map((k, j) =>
        `(${j === 0 ? "" : '","+'}${JSON.stringify(JSON.stringify(k) + ":")}+s(f[${
          JSON.stringify(k)
        }]))`
      ).join("+");
      compiled = new Function("f", "s", `return ${body || '""'};`) as typeof compiled;
    }
    return compiled(fields, value);
  };
}
const fieldsCompiled = compiledFields();
function fieldsStringify(): void {
  for (const record of records) {
    const body = safeStringify(record.fields);
    sink += body.length > 2 ? body.slice(1, -1).length : 0;
  }
}
function fieldsCompiledStage(): void {
  for (const record of records) sink += fieldsCompiled(record.fields).length;
}

// Prepare each stage's input once, and check the compiled serializer's output.
await readStage();
splitStage();
parseStage();
buildStage();
processStage();
decodeStage();
scanStage();
if (textRecords.length !== N) throw new Error(`Scanned ${textRecords.length} records`);
for (const record of records.slice(0, 1000)) {
  const a = safeStringify(record.fields).slice(1, -1);
  const b = fieldsCompiled(record.fields);
  if (a !== b) throw new Error(`Compiled serializer differs: ${a} / ${b}`);
}

const stages: [string, () => unknown][] = [
  ["read", readStage],
  ["split", splitStage],
  ["parse", parseStage],
  ["build", buildStage],
  ["process (redact)", processStage],
  ["format", formatStage],
  ["sink (format + write)", sinkStage],
  ["decode (replacing, per read)", decodeStage],
  ["scan + build (JsonBlockReader)", scanStage],
  ["process (redact, fields as text)", processTextStage],
  ["format (fields as text)", formatTextStage],
  ["sink (format + write, fields as text)", sinkTextStage],
  ["fields: JSON.stringify", fieldsStringify],
  ["fields: compiled", fieldsCompiledStage],
];
const cpuTimes = new Map<string, number[]>(stages.map(([n]) => [n, []]));
const wallTimes = new Map<string, number[]>(stages.map(([n]) => [n, []]));
const load0 = loadAverage();
for (let round = 0; round < ROUNDS + 1; round++) {
  for (let k = 0; k < stages.length; k++) {
    const [name, run] = stages[(k + round) % stages.length]!;
    const t = await cpu(run);
    if (round === 0) continue;
    cpuTimes.get(name)!.push(t.cpu / N);
    wallTimes.get(name)!.push(t.wall / N);
  }
}
await fileSink[Symbol.asyncDispose]();
await Deno.remove(tempDir, { recursive: true });
if (sink < 0) console.log(sink);

const us = (v: number) => v.toFixed(3);
const med = (name: string) => median(cpuTimes.get(name)!);
const range = (name: string) => {
  const v = cpuTimes.get(name)!;
  return `${us(Math.min(...v))}-${us(Math.max(...v))}`;
};
console.log(`load average before: ${load0}, after: ${loadAverage()}; ${N} lines, ${ROUNDS} rounds`);
console.log("| stage | CPU µs/line (median) | range | wall µs/line (median) |");
console.log("| --- | ---: | ---: | ---: |");
for (const [name] of stages) {
  console.log(
    `| ${name} | ${us(med(name))} | ${range(name)} | ${us(median(wallTimes.get(name)!))} |`,
  );
}
const write = med("sink (format + write)") - med("format");
console.log(`| write (sink - format) | ${us(write)} | | |`);
const total = med("read") + med("split") + med("parse") + med("build") +
  med("sink (format + write)");
console.log(
  `\nread+split+parse+build+format+write: ${us(total)} µs/line = ${
    Math.round(1e6 / total).toLocaleString("en-US")
  } records/s per busy core (no processor); with redact: ${
    Math.round(1e6 / (total + med("process (redact)"))).toLocaleString("en-US")
  }`,
);
const after = med("read") + med("decode (replacing, per read)") +
  med("scan + build (JsonBlockReader)") + med("sink (format + write, fields as text)");
console.log(
  `| write (sink - format), fields as text | ${
    us(med("sink (format + write, fields as text)") - med("format (fields as text)"))
  } | | |`,
);
console.log(
  `read+decode+scan/build+format+write, fields as text: ${us(after)} µs/line = ${
    Math.round(1e6 / after).toLocaleString("en-US")
  } records/s per busy core; with redact: ${
    Math.round(1e6 / (after + med("process (redact, fields as text)"))).toLocaleString("en-US")
  }`,
);
console.log(
  `compiled fields / JSON.stringify: ${
    (med("fields: compiled") / med("fields: JSON.stringify")).toFixed(3)
  }`,
);

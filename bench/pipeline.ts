/**
 * `deno task bench:pipeline`: Sluice as a log agent against rsyslog on the same bytes.
 *
 * - TCP: N NDJSON lines over one connection into a file, through rsyslog (imtcp -> omfile,
 *   raw pass-through), Sluice parsing each line into a record and writing JSON, and Sluice
 *   passing raw lines through (text parser, `{message}` pattern). The sender alone into a
 *   discarding receiver shows it is not the bottleneck.
 * - HTTP: the same lines POSTed as NDJSON batches of 1,000 to Sluice's ingest route, and the
 *   sender alone into a discarding Deno.serve.
 * - A sustained flood (3x N, over TCP and over HTTP) shows whether Sluice's memory stays bounded.
 * - Cold start: `sluice run --config config/sluice.yaml` until `/ready` answers 200.
 *
 * The clock starts when the sender starts writing and stops when the output file holds all
 * N lines (polled every 5 ms); then every line is verified. Each server is a fresh process
 * per run; peak RSS is its VmHWM. Runs alternate; medians are reported. Writes the
 * "pipeline" section of bench/RESULTS.md and bench/pipeline.svg.
 *
 * Flags: `--n 1000000`, `--runs 3`, `--quick` (20,000 lines, 1 run), `--dry` (write nothing),
 * `--skip-extras` (no flood, no cold start), `--only rsyslog,sluice_tcp_json` (those jobs'
 * medians only), `--root DIR` (Sluice from another checkout), `--base DIR` (adds the jobs
 * `base_tcp_json`, `base_tcp_json_redact` and `base_http`: the same pipelines from another
 * checkout, so `--only` can alternate before and after in one run). Jobs only `--only` runs:
 * `sluice_tcp_json_redact` (a `redact` processor in the TCP path, issue #18's 0.8x goal) and
 * the Worker prototype `proto_w1`, `proto_w2`, `proto_w1_redact`, `proto_w2_redact`,
 * `proto_w1_direct`, `proto_w2_direct` (bench/pipeline/worker_json/). Each TCP and HTTP run also prints the receiver's CPU time
 * per line (all its threads, from `/proc/PID/stat`), which a loaded machine inflates less
 * than the wall clock.
 *
 * @module
 */

import { join } from "node:path";
import {
  barChartSvg,
  BENCH_DIR,
  formatInt,
  formatMiB,
  loadAverage,
  machineDescription,
  median,
  type Panel,
  perRun,
  ROOT,
  writeSection,
} from "./report.ts";
import { INPUT_EPOCH, inputLine } from "./pipeline/input_line.ts";
import { type Check, verifyOutput } from "./verify.ts";
import { messageOf } from "../src/core/message_of.ts";

const argv = Deno.args;
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(argv[i + 1]);
};
const quick = flag("quick");
const dry = flag("dry");
const N = value("n", quick ? 20_000 : 1_000_000);
const RUNS = value("runs", quick ? 1 : 3);
const FLOOD_FACTOR = 3;
const COLD_RUNS = value("cold-runs", quick ? 2 : 5);
const STALL_MS = 30_000;
/**
 * `--root DIR` runs Sluice from another checkout (a scratch copy with a proposed change), so a
 * change can be measured side by side with the same harness.
 */
const SLUICE_ROOT = argv.includes("--root") ? argv[argv.indexOf("--root") + 1]! : ROOT;
const CLI = join(SLUICE_ROOT, "src", "cli", "main.ts");
/**
 * `--base DIR` adds the job `base_tcp_json`: the TCP JSON pipeline run from another checkout,
 * so `--only base_tcp_json,sluice_tcp_json` alternates before and after in one run.
 */
const BASE_CLI = argv.includes("--base")
  ? join(argv[argv.indexOf("--base") + 1]!, "src", "cli", "main.ts")
  : undefined;
const RSYSLOGD = "/usr/sbin/rsyslogd";

const tempDir = await Deno.makeTempDir({ prefix: "sluice_pipeline_" });
const loadBefore = loadAverage();
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Processes.

/** A child process whose stdout JSON lines are collected as events. */
class Proc {
  readonly child: Deno.ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  stderr = "";
  readonly #waiters: (() => void)[] = [];
  readonly done: Promise<Deno.CommandStatus>;

  constructor(command: string, args: string[], options: { stdin?: "piped" | "null" } = {}) {
    this.child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = this.#lines(this.child.stdout, (line) => {
      try {
        this.events.push(JSON.parse(line));
      } catch {
        return;
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    const stderr = this.#lines(this.child.stderr, (line) => {
      if (this.stderr.length < 20_000) this.stderr += line + "\n";
    });
    this.done = Promise.all([stdout, stderr]).then(() => this.child.status);
  }

  get pid(): number {
    return this.child.pid;
  }

  async #lines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let i;
      while ((i = rest.indexOf("\n")) !== -1) {
        onLine(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
    }
    if (rest) onLine(rest);
  }

  /** Resolves with the first event named `name`. */
  async event(name: string, timeoutMs = 600_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === name);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`No "${name}" event: ${this.stderr.slice(-500)}`);
      const exited = await Promise.race([
        new Promise<false>((resolve) => this.#waiters.push(() => resolve(false))),
        this.done.then(() => true),
        sleep(1000).then(() => false),
      ]);
      if (exited && !this.events.find((e) => e.event === name)) {
        throw new Error(`Exited before "${name}": ${this.stderr.slice(-800)}`);
      }
    }
  }

  /** Peak RSS (VmHWM) so far, in bytes. */
  peakRss(): number {
    try {
      const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    } catch {
      return NaN;
    }
  }

  /**
   * CPU time the process has used so far (user + system, all its threads), in ms: under a
   * shared machine's load this is firmer than the wall clock (`/proc/PID/stat`, 100 Hz ticks).
   */
  cpuMs(): number {
    try {
      const stat = Deno.readTextFileSync(`/proc/${this.pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return NaN;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, graceMs);
    await this.done;
    clearTimeout(timer);
  }
}

function deno(args: string[], options: { stdin?: "piped" | "null" } = {}): Proc {
  return new Proc(Deno.execPath(), args, options);
}

/** Runs one of the helper scripts in bench/pipeline/ (sender or discarding receiver). */
function helper(script: string, ...args: string[]): Proc {
  return deno(["run", "-A", join(BENCH_DIR, "pipeline", script), ...args]);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Waits until something accepts TCP connections on `port`. */
async function waitForPort(port: number, proc: Proc, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      const exited = await Promise.race([proc.done.then(() => true), sleep(20).then(() => false)]);
      if (exited) throw new Error(`The server exited before listening: ${proc.stderr.slice(-800)}`);
    }
  }
  throw new Error(`Nothing listens on port ${port} after ${timeoutMs} ms`);
}

/** Waits until GET `url` answers 200; returns the epoch-ms time it did. */
async function waitForOk(url: string, proc: Proc, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.status === 200) return now();
    } catch {
      // Not listening yet.
    }
    const exited = await Promise.race([proc.done.then(() => true), sleep(5).then(() => false)]);
    if (exited) {
      throw new Error(`The server exited before ${url} answered: ${proc.stderr.slice(-800)}`);
    }
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/**
 * Polls `path` every 5 ms, counting newlines as they arrive, until it holds `n` lines.
 * Returns the epoch-ms time it did, or the count reached when nothing arrived for STALL_MS.
 */
async function waitForLines(path: string, n: number): Promise<{ t?: number; lines: number }> {
  let file: Deno.FsFile | undefined;
  const buffer = new Uint8Array(4 * 1024 * 1024);
  let lines = 0;
  let lastProgress = Date.now();
  try {
    for (;;) {
      if (!file) {
        try {
          file = await Deno.open(path, { read: true });
        } catch {
          // Not created yet.
        }
      }
      let progressed = false;
      if (file) {
        for (
          let read = file.readSync(buffer);
          read !== null && read > 0;
          read = file.readSync(buffer)
        ) {
          progressed = true;
          for (let i = buffer.indexOf(10); i !== -1 && i < read; i = buffer.indexOf(10, i + 1)) {
            lines++;
          }
        }
      }
      if (lines >= n) return { t: now(), lines };
      if (progressed) lastProgress = Date.now();
      else if (Date.now() - lastProgress > STALL_MS) return { lines };
      await sleep(5);
    }
  } finally {
    file?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The input: the same NDJSON bytes for every receiver.

/**
 * Whether an output line kept its input line's time, level and logger (a receiver that
 * replaced the time with its own clock, say, would not count).
 */
function inputKeysKept(record: Record<string, unknown>, id: number): boolean {
  return record.time === new Date(INPUT_EPOCH + Math.floor(id / 10)).toISOString() &&
    String(record.level).toLowerCase() === "info" && record.logger === "bench";
}

async function writeInput(path: string, n: number): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let bytes = 0;
  for (let i = 0; i < n;) {
    let chunk = "";
    for (const end = Math.min(n, i + 10_000); i < end; i++) chunk += inputLine(i);
    const data = encoder.encode(chunk);
    bytes += data.length;
    for (let off = 0; off < data.length;) off += await file.write(data.subarray(off));
  }
  file.close();
  return bytes;
}

const inputPath = join(tempDir, "input.ndjson");
const floodPath = join(tempDir, "flood.ndjson");
const inputBytes = await writeInput(inputPath, N);

// ---------------------------------------------------------------------------------------------
// Jobs.

export interface Outcome {
  /** Sender start to all lines in the file (or received, for a sender alone). */
  elapsedMs?: number;
  /** Sender start to its last write. */
  senderMs?: number;
  peakRss?: number;
  /** The receiver's CPU time (all threads) from the sender's start to the last line, ms. */
  cpuMs?: number;
  check?: Check;
  error?: string;
  note?: string;
}

export interface Job {
  key: string;
  label: string;
  kind: "sluice" | "peer";
  group: "tcp" | "http" | "flood";
  n: number;
  run(n: number): Promise<Outcome>;
}

async function sluiceConfig(name: string, yaml: string): Promise<string> {
  const path = join(tempDir, `${name}.yaml`);
  await Deno.writeTextFile(path, yaml);
  return path;
}

/** Starts a receiver, sends the input over TCP, waits for every line in `out`. */
async function tcpRun(
  start: (port: number, out: string) => Promise<Proc>,
  input: string,
  n: number,
): Promise<Outcome> {
  const port = freePort();
  const out = join(tempDir, `out_${port}.log`);
  const server = await start(port, out);
  let sender: Proc | undefined;
  let cpuBefore = 0;
  try {
    await waitForPort(port, server);
    cpuBefore = server.cpuMs();
    sender = helper("tcp_sender.ts", "--port", String(port), "--input", input);
    const started = (await sender.event("start")).t as number;
    const ended = (await sender.event("end")).t as number;
    const done = await waitForLines(out, n);
    const peakRss = server.peakRss();
    const cpuMs = server.cpuMs() - cpuBefore;
    await server.stop();
    const check = await verifyOutput(out, "json", n, inputKeysKept);
    if (done.t === undefined) {
      return {
        error: `stalled at ${formatInt(done.lines)} of ${formatInt(n)} lines`,
        check,
        peakRss,
      };
    }
    return { elapsedMs: done.t - started, senderMs: ended - started, peakRss, check, cpuMs };
  } finally {
    await sender?.stop();
    await server.stop();
    await Deno.remove(out).catch(() => {});
  }
}

function startRsyslog(port: number, out: string): Promise<Proc> {
  const work = join(tempDir, `rsyslog_${port}`);
  Deno.mkdirSync(work, { recursive: true });
  const conf = join(work, "rsyslog.conf");
  Deno.writeTextFileSync(
    conf,
    `global(workDirectory="${work}")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="bench") {
  action(type="omfile" file="${out}" template="raw")
}
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="bench")
`,
  );
  return Promise.resolve(new Proc(RSYSLOGD, ["-n", "-f", conf, "-i", join(work, "rsyslogd.pid")]));
}

/**
 * The YAML lines that give a sink a disk buffer (default fsync policy, `interval`), in a
 * data_dir of its own; none for the memory buffer.
 */
function diskBuffer(disk: boolean, name: string): { dataDir: string; buffer: string } {
  if (!disk) return { dataDir: "", buffer: "" };
  return {
    dataDir: `data_dir: ${join(tempDir, `data_${name}`)}\n`,
    buffer: ", buffer: { type: disk, max_bytes: 4GiB }",
  };
}

async function startSluiceTcp(
  port: number,
  out: string,
  raw: boolean,
  disk = false,
  cli = CLI,
): Promise<Proc> {
  const { dataDir, buffer } = diskBuffer(disk, `tcp_${port}`);
  const config = await sluiceConfig(
    `tcp_${port}`,
    raw
      ? `sources:
  lines: { type: tcp, address: 127.0.0.1:${port}, parser: text }
sinks:
  file: { type: file, path: ${out}, format: { type: text, pattern: "{message}" } }
`
      : `${dataDir}sources:
  lines: { type: tcp, address: 127.0.0.1:${port}, parser: json }
sinks:
  file: { type: file, path: ${out}, format: json${buffer} }
`,
  );
  return deno(["run", "-A", cli, "run", "--config", config]);
}

async function senderAloneTcp(input: string, n: number): Promise<Outcome> {
  const port = freePort();
  const receiver = helper("discard.ts", "--mode", "tcp", "--port", String(port));
  let sender: Proc | undefined;
  try {
    await receiver.event("listening");
    sender = helper("tcp_sender.ts", "--port", String(port), "--input", input);
    const started = (await sender.event("start")).t as number;
    const ended = (await sender.event("end")).t as number;
    const received = await receiver.event("received");
    return {
      elapsedMs: (received.t as number) - started,
      senderMs: ended - started,
      note: `${formatInt(received.bytes as number)} bytes received for ${formatInt(n)} lines`,
    };
  } finally {
    await sender?.stop();
    await receiver.stop();
  }
}

async function httpRun(
  n: number,
  input = inputPath,
  disk = false,
  cli = CLI,
): Promise<Outcome> {
  const port = freePort();
  const out = join(tempDir, `out_http_${port}.log`);
  const { dataDir, buffer } = diskBuffer(disk, `http_${port}`);
  const config = await sluiceConfig(
    `http_${port}`,
    `${dataDir}server:
  listen: 127.0.0.1:${port}
  rate_limit: { requests_per_second: 0 }
sources:
  ingest: { type: http, path: /ingest }
sinks:
  file: { type: file, path: ${out}, format: json${buffer} }
`,
  );
  const server = deno(["run", "-A", cli, "run", "--config", config]);
  let sender: Proc | undefined;
  let cpuBefore = 0;
  try {
    await waitForOk(`http://127.0.0.1:${port}/ready`, server);
    cpuBefore = server.cpuMs();
    sender = helper(
      "http_sender.ts",
      "--url",
      `http://127.0.0.1:${port}/ingest`,
      "--input",
      input,
    );
    const started = (await sender.event("start")).t as number;
    const end = await sender.event("end");
    const done = await waitForLines(out, n);
    const peakRss = server.peakRss();
    const cpuMs = server.cpuMs() - cpuBefore;
    await server.stop();
    const check = await verifyOutput(out, "json", n, inputKeysKept);
    const note = `${end.retried} retried, ${end.failed} failed requests${
      end.firstFailure ? ` (${end.firstFailure})` : ""
    }`;
    if (done.t === undefined) {
      return {
        error: `stalled at ${formatInt(done.lines)} of ${formatInt(n)} lines; ${note}`,
        check,
        peakRss,
      };
    }
    return {
      elapsedMs: done.t - started,
      senderMs: (end.t as number) - started,
      peakRss,
      cpuMs,
      check,
      note,
    };
  } finally {
    await sender?.stop();
    await server.stop();
    await Deno.remove(out).catch(() => {});
  }
}

async function senderAloneHttp(): Promise<Outcome> {
  const port = freePort();
  const receiver = helper("discard.ts", "--mode", "http", "--port", String(port));
  let sender: Proc | undefined;
  try {
    await receiver.event("listening");
    sender = helper(
      "http_sender.ts",
      "--url",
      `http://127.0.0.1:${port}/ingest`,
      "--input",
      inputPath,
    );
    const started = (await sender.event("start")).t as number;
    const end = await sender.event("end");
    return {
      elapsedMs: (end.t as number) - started,
      senderMs: (end.t as number) - started,
      note: `${end.retried} retried, ${end.failed} failed requests`,
    };
  } finally {
    await sender?.stop();
    await receiver.stop();
  }
}

const rsyslogAvailable = await Deno.stat(RSYSLOGD).then(() => true, () => false);

const JOBS: Job[] = [
  ...(rsyslogAvailable
    ? [{
      key: "rsyslog",
      label: "rsyslog imtcp -> omfile (raw lines)",
      kind: "peer" as const,
      group: "tcp" as const,
      n: N,
      run: (n: number) => tcpRun(startRsyslog, inputPath, n),
    }]
    : []),
  {
    key: "sluice_tcp_json",
    label: "Sluice tcp (json parser) -> file (json)",
    kind: "sluice",
    group: "tcp",
    n: N,
    run: (n) => tcpRun((port, out) => startSluiceTcp(port, out, false), inputPath, n),
  },
  {
    key: "sluice_tcp_raw",
    label: "Sluice tcp (raw lines) -> file",
    kind: "sluice",
    group: "tcp",
    n: N,
    run: (n) => tcpRun((port, out) => startSluiceTcp(port, out, true), inputPath, n),
  },
  {
    key: "tcp_sender",
    label: "TCP sender alone -> discard",
    kind: "peer",
    group: "tcp",
    n: N,
    run: (n) => senderAloneTcp(inputPath, n),
  },
  {
    key: "sluice_http",
    label: "Sluice http (NDJSON, 1,000/POST) -> file (json)",
    kind: "sluice",
    group: "http",
    n: N,
    run: (n) => httpRun(n),
  },
  {
    key: "http_sender",
    label: "HTTP sender alone -> discard (Deno.serve)",
    kind: "peer",
    group: "http",
    n: N,
    run: () => senderAloneHttp(),
  },
];

/**
 * The worker-ingest prototype (bench/pipeline/worker_json/, issue #18), for `--only`: TCP
 * NDJSON parsed and formatted by 1 or 2 Workers, emitted through the real pipeline into the
 * same file sink, which writes each record's precomputed line. `_redact` redacts in them.
 */
async function startProtoTcp(
  port: number,
  out: string,
  workers: number,
  redact: boolean,
  direct = false,
): Promise<Proc> {
  const dir = join(ROOT, "bench", "pipeline", "worker_json");
  // `direct`: the source writes the Workers' bytes to `out` itself; the sink gets nothing.
  const writeTo = direct ? `, write_to: ${out}` : "";
  const sinkPath = direct ? `${out}.unused` : out;
  const source = join(dir, "source.ts");
  const config = await sluiceConfig(
    `proto_${port}`,
    `sources:
  lines: { module: ${source}, address: 127.0.0.1:${port}, workers: ${workers}, redact: ${redact}${writeTo} }
sinks:
  file: { type: file, path: ${sinkPath}, format: { module: ${join(dir, "format.ts")} } }
`,
  );
  return deno(["run", "-A", CLI, "run", "--config", config]);
}

/** Sluice's own tcp source with a `redact` processor (the issue's 0.8x goal), for `--only`. */
async function startSluiceTcpRedact(port: number, out: string, cli = CLI): Promise<Proc> {
  const config = await sluiceConfig(
    `redact_${port}`,
    `sources:
  lines: { type: tcp, address: 127.0.0.1:${port}, parser: json }
processors:
  scrub: { type: redact, inputs: [lines], fields: [password, "*.token", card.number, headers.authorization], patterns: [credit_card, us_ssn, email, jwt, bearer_token, aws_access_key, url_password] }
sinks:
  file: { type: file, inputs: [scrub], path: ${out}, format: json }
`,
  );
  return deno(["run", "-A", cli, "run", "--config", config]);
}

const DIRECT_JOBS: Job[] = [1, 2].map((workers): Job => ({
  key: `proto_w${workers}_direct`,
  label: `Prototype: tcp -> ${workers} Worker(s) -> UTF-8 bytes appended by the main thread`,
  kind: "sluice",
  group: "tcp",
  n: N,
  run: (n) => tcpRun((port, out) => startProtoTcp(port, out, workers, false, true), inputPath, n),
}));
const EXTRA_JOBS: Job[] = [1, 2].flatMap((workers) =>
  [false, true].map((redact): Job => ({
    key: `proto_w${workers}${redact ? "_redact" : ""}`,
    label: `Prototype: tcp -> ${workers} Worker(s)${redact ? " with redact" : ""} -> file (json)`,
    kind: "sluice",
    group: "tcp",
    n: N,
    run: (n) => tcpRun((port, out) => startProtoTcp(port, out, workers, redact), inputPath, n),
  }))
);
if (BASE_CLI !== undefined) {
  EXTRA_JOBS.push({
    key: "base_tcp_json",
    label: "Sluice tcp (json parser) -> file (json), --base checkout",
    kind: "sluice",
    group: "tcp",
    n: N,
    run: (n) =>
      tcpRun((port, out) => startSluiceTcp(port, out, false, false, BASE_CLI), inputPath, n),
  }, {
    key: "base_tcp_json_redact",
    label: "Sluice tcp (json parser) -> redact -> file (json), --base checkout",
    kind: "sluice",
    group: "tcp",
    n: N,
    run: (n) => tcpRun((port, out) => startSluiceTcpRedact(port, out, BASE_CLI), inputPath, n),
  }, {
    key: "base_http",
    label: "Sluice http (NDJSON, 1,000/POST) -> file (json), --base checkout",
    kind: "sluice",
    group: "http",
    n: N,
    run: (n) => httpRun(n, inputPath, false, BASE_CLI),
  });
}
EXTRA_JOBS.push({
  key: "sluice_tcp_json_redact",
  label: "Sluice tcp (json parser) -> redact -> file (json)",
  kind: "sluice",
  group: "tcp",
  n: N,
  run: (n) => tcpRun(startSluiceTcpRedact, inputPath, n),
});

/** The same TCP JSON and HTTP pipelines with a disk buffer on the file sink (`--disk`). */
const DISK_JOBS: Job[] = [
  {
    key: "sluice_tcp_json_disk",
    label: "Sluice tcp (json parser) -> file (json), disk buffer",
    kind: "sluice",
    group: "tcp",
    n: N,
    run: (n) => tcpRun((port, out) => startSluiceTcp(port, out, false, true), inputPath, n),
  },
  {
    key: "sluice_http_disk",
    label: "Sluice http (NDJSON, 1,000/POST) -> file (json), disk buffer",
    kind: "sluice",
    group: "http",
    n: N,
    run: (n) => httpRun(n, inputPath, true),
  },
];
const diskMode = flag("disk");
if (diskMode) {
  const keep = new Set(["sluice_tcp_json", "sluice_http"]);
  JOBS.splice(0, JOBS.length, ...JOBS.filter((job) => keep.has(job.key)));
  JOBS.splice(1, 0, DISK_JOBS[0]!);
  JOBS.push(DISK_JOBS[1]!);
}

// `--only a,b` runs a subset and prints its medians (for A/B work; no report is written).
const onlyIndex = argv.indexOf("--only");
if (onlyIndex !== -1) {
  const keep = new Set((argv[onlyIndex + 1] ?? "").split(","));
  JOBS.splice(
    0,
    JOBS.length,
    ...[...JOBS, ...DISK_JOBS, ...EXTRA_JOBS, ...DIRECT_JOBS].filter((job) => keep.has(job.key)),
  );
}
const outcomes = new Map<string, Outcome[]>(JOBS.map((job) => [job.key, []]));
console.log(`pipeline: N=${N}, runs=${RUNS}, load ${loadBefore}, rsyslog ${rsyslogAvailable}`);

async function attempt(job: Job, n: number): Promise<Outcome> {
  try {
    return await job.run(n);
  } catch (error) {
    return { error: oneLine(messageOf(error)) };
  }
}

/** An error message fit for a table cell: one line, pipes escaped, at most 300 characters. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, "");
  const flat = plain.replace(/\s+/g, " ").replaceAll("|", "\\|").trim();
  return flat.length > 300 ? flat.slice(0, 297) + "..." : flat;
}

function describe(o: Outcome, n: number): string {
  if (o.error) return `error: ${o.error}`;
  return `${formatInt(n / (o.elapsedMs! / 1000))} rec/s, sender ${o.senderMs?.toFixed(0)} ms, rss ${
    formatMiB(o.peakRss ?? NaN)
  }${o.cpuMs !== undefined ? `, cpu ${(o.cpuMs * 1000 / n).toFixed(2)} µs/line` : ""}${
    o.check ? `, lost ${formatInt(n - o.check.distinct)}` : ""
  }${o.note ? `, ${o.note}` : ""}`;
}

for (let run = 0; run < RUNS; run++) {
  const shift = run % JOBS.length;
  for (const job of [...JOBS.slice(shift), ...JOBS.slice(0, shift)]) {
    const outcome = await attempt(job, job.n);
    outcomes.get(job.key)!.push(outcome);
    console.log(`  run ${run + 1} ${job.key}: ${describe(outcome, job.n)}`);
  }
}

if (onlyIndex !== -1) {
  // A subset has no report to write: print each job's median and stop.
  for (const [key, list] of outcomes) {
    const rates = list.filter((o) => o.elapsedMs).map((o) => N / (o.elapsedMs! / 1000));
    const cpu = list.filter((o) => o.cpuMs !== undefined).map((o) => o.cpuMs! * 1000 / N);
    console.log(
      `${key}: median ${formatInt(median(rates))} rec/s of ${rates.length} runs${
        cpu.length > 0 ? `, cpu ${median(cpu).toFixed(2)} µs/line` : ""
      }`,
    );
  }
  await Deno.remove(tempDir, { recursive: true });
  Deno.exit(0);
}

/**
 * `n` lines over TCP into a tcp sink whose peer is down, with a disk buffer: every record
 * stays buffered. The clock stops when /metrics counts all `n` in the buffer; peak RSS then
 * shows whether memory grows with what is buffered.
 */
async function bufferedRun(n: number, input: string): Promise<Outcome> {
  const port = freePort();
  const metricsPort = freePort();
  const down = freePort();
  const dataDir = join(tempDir, `data_buffered_${port}`);
  const config = await sluiceConfig(
    `buffered_${port}`,
    `server: { listen: 127.0.0.1:${metricsPort} }
data_dir: ${dataDir}
sources:
  lines: { type: tcp, address: 127.0.0.1:${port}, parser: json }
sinks:
  peer: { type: tcp, address: 127.0.0.1:${down}, buffer: { type: disk, max_bytes: 4GiB } }
`,
  );
  const server = deno(["run", "-A", CLI, "run", "--config", config]);
  let sender: Proc | undefined;
  try {
    await waitForPort(port, server);
    sender = helper("tcp_sender.ts", "--port", String(port), "--input", input);
    const started = (await sender.event("start")).t as number;
    const ended = (await sender.event("end")).t as number;
    let buffered = 0;
    let bytes = 0;
    let lastProgress = Date.now();
    for (;;) {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const value = (name: string) =>
        Number(new RegExp(`^${name}\\{component="peer"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
      const now_ = now();
      const count = value("sluice_buffer_records");
      bytes = value("sluice_buffer_bytes");
      if (count > buffered) lastProgress = Date.now();
      buffered = count;
      if (buffered >= n) {
        return {
          elapsedMs: now_ - started,
          senderMs: ended - started,
          peakRss: server.peakRss(),
          note: `${formatInt(buffered)} records, ${formatMiB(bytes)} in the buffer`,
        };
      }
      if (Date.now() - lastProgress > STALL_MS) {
        return { error: `stalled at ${formatInt(buffered)} of ${formatInt(n)} records buffered` };
      }
      await sleep(100);
    }
  } finally {
    await sender?.stop();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (diskMode) {
  await writeInput(floodPath, N * FLOOD_FACTOR);
  const buffered = {
    n: await attempt({ ...DISK_JOBS[0]!, run: (n) => bufferedRun(n, inputPath) }, N),
    flood: await attempt(
      { ...DISK_JOBS[0]!, run: (n) => bufferedRun(n, floodPath) },
      N * FLOOD_FACTOR,
    ),
  };
  console.log(`  buffered ${N}: ${describe(buffered.n, N)}`);
  console.log(`  buffered ${N * FLOOD_FACTOR}: ${describe(buffered.flood, N * FLOOD_FACTOR)}`);
  await Deno.remove(floodPath).catch(() => {});
  await import("./pipeline/disk_report.ts").then((m) =>
    m.diskReport({
      jobs: JOBS,
      outcomes,
      n: N,
      flood: N * FLOOD_FACTOR,
      runs: RUNS,
      dry,
      quick,
      loadBefore,
      buffered,
    })
  );
  await Deno.remove(tempDir, { recursive: true });
  Deno.exit(0);
}

// A sustained flood: FLOOD_FACTOR x N lines through the JSON pipeline, one run.
const skipExtras = flag("skip-extras");
if (!skipExtras) await writeInput(floodPath, N * FLOOD_FACTOR);
const flood: Outcome = skipExtras ? { error: "skipped (--skip-extras)" } : await attempt({
  key: "flood",
  label: "",
  kind: "sluice",
  group: "flood",
  n: N * FLOOD_FACTOR,
  run: (n) => tcpRun((port, out) => startSluiceTcp(port, out, false), floodPath, n),
}, N * FLOOD_FACTOR);
console.log(`  flood x${FLOOD_FACTOR}: ${describe(flood, N * FLOOD_FACTOR)}`);
// The same flood POSTed: each request body is bounded, and a full pipeline holds the responses.
const httpFlood: Outcome = skipExtras ? { error: "skipped (--skip-extras)" } : await attempt({
  key: "http_flood",
  label: "",
  kind: "sluice",
  group: "flood",
  n: N * FLOOD_FACTOR,
  run: (n) => httpRun(n, floodPath),
}, N * FLOOD_FACTOR);
console.log(`  http flood x${FLOOD_FACTOR}: ${describe(httpFlood, N * FLOOD_FACTOR)}`);
await Deno.remove(floodPath).catch(() => {});

// ---------------------------------------------------------------------------------------------
// Cold start: `sluice run` with the default config, until /ready answers.

async function coldStart(): Promise<{ ms?: number; error?: string }> {
  const port = freePort();
  const dir = join(tempDir, `cold_${port}`, "config");
  await Deno.mkdir(dir, { recursive: true });
  const yaml = (await Deno.readTextFile(join(ROOT, "config", "sluice.yaml")))
    .replace(/listen:\s*127\.0\.0\.1:\d+/, `listen: 127.0.0.1:${port}`);
  if (!yaml.includes(`127.0.0.1:${port}`)) {
    return { error: "config/sluice.yaml has no listen: line" };
  }
  const config = join(dir, "sluice.yaml");
  await Deno.writeTextFile(config, yaml);
  const started = now();
  const proc = deno(["run", "-A", CLI, "run", "--config", config], { stdin: "piped" });
  try {
    const t = await waitForOk(`http://127.0.0.1:${port}/ready`, proc, 30_000);
    return { ms: t - started };
  } catch (error) {
    return { error: oneLine(messageOf(error)) };
  } finally {
    await proc.child.stdin.close().catch(() => {});
    await proc.stop();
  }
}

async function helloStart(): Promise<{ ms?: number; error?: string }> {
  const port = freePort();
  const started = now();
  const proc = deno([
    "run",
    "-A",
    "--quiet",
    "--ext=ts",
    "-",
  ], { stdin: "piped" });
  const writer = proc.child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, () => new Response("ok"));`,
    ),
  );
  await writer.close();
  try {
    const t = await waitForOk(`http://127.0.0.1:${port}/`, proc, 30_000);
    return { ms: t - started };
  } catch (error) {
    return { error: oneLine(messageOf(error)) };
  } finally {
    await proc.stop();
  }
}

const cold: number[] = [];
const hello: number[] = [];
let coldError = "";
for (let i = 0; i < (skipExtras ? 0 : COLD_RUNS); i++) {
  const c = await coldStart();
  if (c.ms !== undefined) cold.push(c.ms);
  else coldError ||= c.error ?? "";
  const h = await helloStart();
  if (h.ms !== undefined) hello.push(h.ms);
  console.log(
    `  cold start ${i + 1}: sluice ${c.ms?.toFixed(0) ?? c.error} ms, Deno.serve hello ${
      h.ms?.toFixed(0) ?? h.error
    } ms`,
  );
}

const loadAfter = loadAverage();
await Deno.remove(tempDir, { recursive: true });

// ---------------------------------------------------------------------------------------------
// Summaries.

interface Summary {
  job: Job;
  rate: number;
  rates: number[];
  senderRate: number;
  rss: number;
  lost: number;
  duplicates: number;
  malformed: number;
  errors: string[];
  notes: string[];
  valid: boolean;
}

function summarize(job: Job): Summary {
  const list = outcomes.get(job.key)!;
  const ok = list.filter((o) => o.elapsedMs !== undefined && !o.error);
  const rates = ok.map((o) => job.n / (o.elapsedMs! / 1000));
  const checks = list.flatMap((o) => (o.check ? [o.check] : []));
  const lost = Math.max(0, ...checks.map((c) => job.n - c.distinct));
  const duplicates = Math.max(0, ...checks.map((c) => c.duplicates));
  const malformed = Math.max(0, ...checks.map((c) => c.malformed));
  const errors = list.flatMap((o) => (o.error ? [o.error] : []));
  return {
    job,
    rate: median(rates),
    rates,
    senderRate: median(ok.map((o) => job.n / (o.senderMs! / 1000))),
    rss: median(ok.flatMap((o) => (o.peakRss === undefined ? [] : [o.peakRss]))),
    lost,
    duplicates,
    malformed,
    errors,
    notes: [...new Set(list.flatMap((o) => (o.note ? [o.note] : [])))],
    valid: errors.length === 0 && ok.length === list.length && lost === 0 && duplicates === 0 &&
      malformed === 0,
  };
}

const summaries = JOBS.map(summarize);
const byKey = (key: string) => summaries.find((s) => s.job.key === key);
const rsyslog = byKey("rsyslog");
const tcpJson = byKey("sluice_tcp_json")!;
const tcpRaw = byKey("sluice_tcp_raw")!;
const http = byKey("sluice_http")!;

function verdict(s: Summary): string {
  if (s.errors.length) return `failed: ${s.errors[0]}`;
  const problems: string[] = [];
  if (s.lost) problems.push(`lost ${formatInt(s.lost)}`);
  if (s.duplicates) problems.push(`${formatInt(s.duplicates)} duplicated`);
  if (s.malformed) problems.push(`${formatInt(s.malformed)} malformed`);
  return problems.length ? `does not count: ${problems.join(", ")}` : "ok";
}

const table = (group: Job["group"]) =>
  [
    "| Receiver | records/s (median) | MB/s | runs | sender's own rate | peak RSS | lost | verdict | notes |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ...summaries.filter((s) => s.job.group === group).map((s) =>
      `| ${s.job.label} | ${formatInt(s.rate)} | ${(s.rate * inputBytes / N / 1e6).toFixed(0)} | ${
        s.rates.map(formatInt).join(" / ")
      } | ${formatInt(s.senderRate)} | ${s.rss ? formatMiB(s.rss) : "n/a"} | ${
        s.job.key.includes("sender") ? "n/a" : formatInt(s.lost)
      } | ${verdict(s)} | ${s.notes.map(oneLine).join("; ")} |`
    ),
  ].join("\n");

const pass = (ok: boolean) => (ok ? "**met**" : "**not met**");
const jsonRatio = rsyslog ? tcpJson.rate / rsyslog.rate : NaN;
const rawRatio = rsyslog ? tcpRaw.rate / rsyslog.rate : NaN;
/** "met", or "met on the median" when some rounds missed the target, or "not met". */
const status = (ratio: number, a: number[], b: number[], target: number, valid: boolean) => {
  if (!(ratio >= target) || !valid) return "**not met**";
  const missed = a.slice(0, b.length).filter((x, i) => x / b[i]! < target).length;
  return missed ? `**met on the median** (missed in ${missed} of ${b.length} runs)` : "**met**";
};
/** A flood's peak RSS may exceed the same pipeline's at N lines by half, or stay under 256 MB. */
const bounded = (o: Outcome, base: number) =>
  Number.isFinite(o.peakRss ?? NaN) &&
  o.peakRss! <= Math.max(Number.isFinite(base) ? 1.5 * base : 0, 256e6) && !o.error &&
  o.check?.distinct === N * FLOOD_FACTOR && o.check.duplicates === 0 && o.check.malformed === 0;
const floodCell = (o: Outcome, base: number) =>
  `${formatInt(N * FLOOD_FACTOR)} lines: peak RSS ${formatMiB(o.peakRss ?? NaN)} vs ${
    formatMiB(base)
  } for ${formatInt(N)}${o.error ? `; ${o.error}` : ""}${
    o.check
      ? `; lost ${formatInt(N * FLOOD_FACTOR - o.check.distinct)}, duplicated ${
        formatInt(o.check.duplicates)
      }, malformed ${formatInt(o.check.malformed)}`
      : ""
  }${o.note ? `; ${o.note}` : ""}`;
const goals = [
  `| TCP NDJSON parsed into records, JSON to a file: >= 1.0x rsyslog pass-through (issue #18) | ${
    rsyslog
      ? `${jsonRatio.toFixed(2)}x rsyslog (per run: ${perRun(tcpJson.rates, rsyslog.rates)})`
      : "rsyslog not installed"
  } | ${
    status(jsonRatio, tcpJson.rates, rsyslog?.rates ?? [], 1, tcpJson.valid && !!rsyslog?.valid)
  } |`,
  `| Raw-line pass-through: >= 1x rsyslog | ${
    rsyslog
      ? `${rawRatio.toFixed(2)}x rsyslog (per run: ${perRun(tcpRaw.rates, rsyslog.rates)})`
      : "n/a"
  } | ${
    status(rawRatio, tcpRaw.rates, rsyslog?.rates ?? [], 1, tcpRaw.valid && !!rsyslog?.valid)
  } |`,
  `| Memory bounded under a sustained flood (TCP), at most 150 MB (issue #18) | ${
    floodCell(flood, tcpJson.rss)
  } | ${pass(bounded(flood, tcpJson.rss) && (flood.peakRss ?? Infinity) <= 150e6)} |`,
  `| Memory bounded under a sustained flood (HTTP, 4 requests in flight) | ${
    floodCell(httpFlood, http.rss)
  } | ${pass(bounded(httpFlood, http.rss))} |`,
  `| HTTP ingest of NDJSON batches (1,000/POST) into a file: >= 600,000 records/s (issue #18) | ${
    formatInt(http.rate)
  } records/s (${verdict(http)}) | ${pass(http.valid && http.rate >= 600_000)} |`,
  `| Cold start: \`sluice run\` with config/sluice.yaml to /ready answering | ${
    cold.length ? `${median(cold).toFixed(0)} ms median of ${cold.length}` : `failed: ${coldError}`
  } (a bare Deno.serve: ${hello.length ? median(hello).toFixed(0) : "n/a"} ms) | reported |`,
];

const section = `
## Pipeline: Sluice as an agent vs rsyslog (\`deno task bench:pipeline\`)

${machineDescription()}
Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}. ${
  quick ? "**Quick mode: small N, one run; not a result.**" : ""
}${SLUICE_ROOT === ROOT ? "" : ` **Sluice run from ${SLUICE_ROOT}, not this checkout.**`}

Workload: ${formatInt(N)} NDJSON lines (${formatInt(inputBytes)} bytes, ${
  (inputBytes / N).toFixed(0)
} bytes/line: \`time\` (ISO 8601, ten lines per millisecond), \`level\`, \`logger\`, \`message\` and
four fields), identical bytes
for every receiver. TCP: one connection, written in 1 MiB chunks by a separate Deno process.
rsyslog ${rsyslogAvailable ? "" : "(not installed on this machine) "}runs in the foreground
(\`rsyslogd -n -f <conf>\`) with its own config: \`imtcp\` on a loopback port into \`omfile\`
with the template \`%rawmsg%\\n\` (pass-through, defaults otherwise). Sluice runs
\`src/cli/main.ts run --config <yaml>\` with a \`tcp\` source (\`parser: json\`, or \`parser: text\`
and a \`{message}\` text pattern for raw lines) into a \`file\` sink. HTTP: the same lines POSTed
as \`application/x-ndjson\` batches of 1,000 lines, 4 requests in flight, to the \`http\` source
(rate limit off). The clock runs from the sender's first write until the output file holds every
line (polled every 5 ms); every line is then checked (message, four fields, distinct ids).
Peak RSS is the receiver's VmHWM. ${RUNS} runs per receiver, rotating order, medians.

### Goals

| Goal | Measured in this run | Status |
| --- | --- | --- |
${goals.join("\n")}

Where a goal is not met, the Profile section of this file says what limits it.

### TCP ingest into a file

${table("tcp")}

### HTTP ingest into a file

${table("http")}

### Cold start

\`sluice run --config config/sluice.yaml\` (a copy with a free port; the logger, http and
stdin sources, console and file sinks), from spawning the process until \`GET /ready\` answers
200: ${cold.map((ms) => ms.toFixed(0)).join(" / ")} ms (median ${
  cold.length ? median(cold).toFixed(0) : "n/a"
} ms). For scale, a bare \`Deno.serve\` script answering its first request: ${
  hello.map((ms) => ms.toFixed(0)).join(" / ")
} ms (median ${hello.length ? median(hello).toFixed(0) : "n/a"} ms).

![Pipeline chart](pipeline.svg)
`;

const panels: Panel[] = [
  {
    title: `TCP NDJSON into a file, ${
      formatInt(N)
    } lines, records/s (longer is better; the sender alone: ${
      formatInt(byKey("tcp_sender")?.rate ?? NaN)
    }/s)`,
    bars: summaries.filter((s) => s.job.group === "tcp" && !s.job.key.endsWith("_sender")).map((
      s,
    ) => ({
      label: s.job.label,
      value: s.rate,
      text: `${formatInt(s.rate)}/s${s.valid ? "" : " - INVALID"}`,
      kind: s.valid ? s.job.kind : "void",
    })),
  },
  {
    title: `HTTP NDJSON batches (1,000 per POST), records/s (longer is better; the sender alone: ${
      formatInt(byKey("http_sender")?.rate ?? NaN)
    }/s)`,
    bars: summaries.filter((s) => s.job.group === "http" && !s.job.key.endsWith("_sender")).map((
      s,
    ) => ({
      label: s.job.label,
      value: s.rate,
      text: `${formatInt(s.rate)}/s${s.valid ? "" : " - INVALID"}`,
      kind: s.valid ? s.job.kind : "void",
    })),
  },
  {
    title: "Peak RSS of the receiver, MiB (shorter is better)",
    bars: summaries.filter((s) => Number.isFinite(s.rss) && s.rss > 0).map((s) => ({
      label: s.job.label,
      value: s.rss / 1024 / 1024,
      text: formatMiB(s.rss),
      kind: s.job.kind,
    })),
  },
];

console.log(section);
if (!dry) {
  writeSection("pipeline", section);
  await Deno.writeTextFile(
    join(BENCH_DIR, "pipeline.svg"),
    barChartSvg("Sluice as an agent vs rsyslog", panels),
  );
  console.log("Wrote bench/RESULTS.md (pipeline section) and bench/pipeline.svg");
}

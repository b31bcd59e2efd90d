/**
 * `deno task bench:peers`: Sluice against pino, LogTape, winston and a physical reference on
 * the same workload, each run in its own Deno process, runs alternating, medians reported.
 * Every output file is read back and every line checked (count, distinct ids, all fields
 * present), so a loss shows as a column, never as speed. Writes the "peers" section of
 * bench/RESULTS.md and bench/results.svg.
 *
 * Flags: `--n 1000000` records per run, `--runs 3`, `--disabled-runs 7`, `--quick` (20,000
 * records, 1 run), `--dry` (print, write nothing).
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
import type { Mode, PeerReport } from "./peers/common.ts";
import { MESSAGE, ROUNDS } from "./peers/common.ts";
import { type Check, verifyOutput } from "./verify.ts";
import { messageOf } from "../src/core/message_of.ts";

interface Job {
  /** Unique key. */
  key: string;
  /** Script under bench/peers/. */
  script: string;
  mode: Mode;
  variant?: string;
  /** Records (json, text) or calls (disabled). */
  n: number;
  label: string;
  kind: "sluice" | "peer";
}

interface Outcome {
  report?: PeerReport;
  check?: Check;
  /** Bytes written after the peer reported it was done. */
  late: number;
  error?: string;
}

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
/**
 * Disabled-call runs: a few nanoseconds per call is sensitive to whatever else the machine does,
 * and each run takes about a second, so they get more runs than the file workloads.
 */
const DISABLED_RUNS = value("disabled-runs", quick ? 1 : Math.max(RUNS, 7));
const CALIBRATION_N = Math.min(N, 20_000);
/** Disabled calls per run: enough for about half a second in each peer. */
const DISABLED_SCALE = quick ? 0.02 : 1;
const CHILD_TIMEOUT_MS = 15 * 60_000;

const tempDir = await Deno.makeTempDir({ prefix: "sluice_peers_" });
const loadBefore = loadAverage();

/** Runs one child and checks its output file. */
async function runJob(job: Job, n = job.n): Promise<Outcome> {
  const out = join(tempDir, `${job.key}.out`);
  await Deno.remove(out).catch(() => {});
  if (job.mode !== "disabled") await Deno.writeFile(out, new Uint8Array());
  const args = [
    "run",
    "-A",
    "--quiet",
    join(BENCH_DIR, "peers", job.script),
    "--mode",
    job.mode,
    "--n",
    String(n),
    "--out",
    job.mode === "disabled" ? "" : out,
  ];
  if (job.variant) args.push("--variant", job.variant);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  const result = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(result.stdout).trim();
  const stderr = new TextDecoder().decode(result.stderr).trim();
  try {
    if (!result.success) {
      return { late: 0, error: `exit ${result.code}: ${stderr.split("\n").slice(-3).join(" ")}` };
    }
    const lastLine = stdout.split("\n").at(-1) ?? "";
    const report = JSON.parse(lastLine) as PeerReport;
    if (job.mode === "disabled") return { report, late: 0 };
    const check = await verifyOutput(out, job.mode, n);
    return { report, check, late: check.bytes - report.bytesAtDone };
  } catch (error) {
    return { late: 0, error: `${messageOf(error)}: ${stderr}` };
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

function rate(outcome: Outcome, n: number): number {
  return outcome.report ? n / (outcome.report.elapsedMs / 1000) : NaN;
}

// ---------------------------------------------------------------------------------------------
// 1. LogTape offers several file sinks; find its fastest lossless one on a short run.

const LOGTAPE_VARIANTS: Record<string, string> = {
  file: "getFileSink (sync, 8 KiB buffer, fsync per flush)",
  file64k: "getFileSink (sync, 64 KiB buffer, fsync per flush)",
  file_nb: "getFileSink nonBlocking",
  streamfile: "getStreamFileSink (node stream)",
  stream: "getStreamSink (WritableStream)",
};

console.log(`peers: N=${N}, runs=${RUNS}, load ${loadBefore}`);
const calibration: { variant: string; rate: number; lost: number; error?: string }[] = [];
for (const variant of Object.keys(LOGTAPE_VARIANTS)) {
  const job: Job = {
    key: `logtape_cal_${variant}`,
    script: "logtape.ts",
    mode: "json",
    variant,
    n: CALIBRATION_N,
    label: "",
    kind: "peer",
  };
  const outcome = await runJob(job);
  const lost = outcome.check ? CALIBRATION_N - outcome.check.distinct : CALIBRATION_N;
  const entry = { variant, rate: rate(outcome, CALIBRATION_N), lost };
  calibration.push(outcome.error ? { ...entry, error: outcome.error } : entry);
  console.log(`  calibrate logtape ${variant}: ${formatInt(entry.rate)} rec/s, lost ${lost}`);
}
const lossless = calibration.filter((c) => c.lost === 0 && !c.error && c.rate > 0);
const logtapeBest = lossless.sort((a, b) => b.rate - a.rate)[0]?.variant ?? "streamfile";

// ---------------------------------------------------------------------------------------------
// 2. The measured jobs, alternating.

const JSON_JOBS: Job[] = [
  {
    key: "sluice_json",
    script: "sluice.ts",
    mode: "json",
    n: N,
    label: "Sluice (file sink, json)",
    kind: "sluice",
  },
  {
    key: "pino_async",
    script: "pino.ts",
    mode: "json",
    variant: "async",
    n: N,
    label: "pino (destination sync: false)",
    kind: "peer",
  },
  {
    key: "pino_sync",
    script: "pino.ts",
    mode: "json",
    variant: "sync",
    n: N,
    label: "pino (destination sync: true)",
    kind: "peer",
  },
  {
    key: "logtape_json",
    script: "logtape.ts",
    mode: "json",
    variant: logtapeBest,
    n: N,
    label: `LogTape (${LOGTAPE_VARIANTS[logtapeBest]})`,
    kind: "peer",
  },
  {
    key: "logtape_nb",
    script: "logtape.ts",
    mode: "json",
    variant: "stream_nb",
    n: N,
    label: "LogTape (getStreamSink nonBlocking)",
    kind: "peer",
  },
  {
    key: "winston_json",
    script: "winston.ts",
    mode: "json",
    n: N,
    label: "winston (File transport, json)",
    kind: "peer",
  },
  {
    key: "reference",
    script: "reference.ts",
    mode: "json",
    n: N,
    label: "Reference: JSON.stringify + 64 KiB writeSync",
    kind: "peer",
  },
];
const TEXT_JOBS: Job[] = [
  {
    key: "sluice_text",
    script: "sluice.ts",
    mode: "text",
    n: N,
    label: "Sluice (file sink, text)",
    kind: "sluice",
  },
  {
    key: "logtape_text",
    script: "logtape.ts",
    mode: "text",
    variant: logtapeBest,
    n: N,
    label: `LogTape (text formatter, ${logtapeBest})`,
    kind: "peer",
  },
  {
    key: "winston_text",
    script: "winston.ts",
    mode: "text",
    n: N,
    label: "winston (File transport, printf)",
    kind: "peer",
  },
];
const scaled = (calls: number) => Math.max(10_000, Math.round(calls * DISABLED_SCALE));
const DISABLED_JOBS: Job[] = [
  {
    key: "sluice_off",
    script: "sluice.ts",
    mode: "disabled",
    n: scaled(100_000_000),
    label: "Sluice",
    kind: "sluice",
  },
  {
    key: "pino_off",
    script: "pino.ts",
    mode: "disabled",
    n: scaled(100_000_000),
    label: "pino",
    kind: "peer",
  },
  {
    key: "logtape_off",
    script: "logtape.ts",
    mode: "disabled",
    n: scaled(20_000_000),
    label: "LogTape",
    kind: "peer",
  },
  {
    key: "winston_off",
    script: "winston.ts",
    mode: "disabled",
    n: scaled(1_000_000),
    label: "winston",
    kind: "peer",
  },
];
const FILE_JOBS = [...JSON_JOBS, ...TEXT_JOBS];
const ALL_JOBS = [...FILE_JOBS, ...DISABLED_JOBS];
const outcomes = new Map<string, Outcome[]>(ALL_JOBS.map((job) => [job.key, []]));

/** Runs `jobs` `runs` times, rotating the order: no job always runs first, last or next to the same one. */
async function rotate(jobs: Job[], runs: number, step: number): Promise<void> {
  for (let run = 0; run < runs; run++) {
    const shift = (run * step) % jobs.length;
    for (const job of [...jobs.slice(shift), ...jobs.slice(0, shift)]) await runOne(job, run);
  }
}

async function runOne(job: Job, run: number): Promise<void> {
  const outcome = await runJob(job);
  outcomes.get(job.key)!.push(outcome);
  const what = job.mode === "disabled"
    ? `${(outcome.report?.nsPerCall ?? NaN).toFixed(2)} ns/call`
    : `${formatInt(rate(outcome, job.n))} rec/s, rss ${
      formatMiB(outcome.report?.peakRss ?? NaN)
    }, lost ${outcome.check ? job.n - outcome.check.distinct : "?"}`;
  console.log(`  run ${run + 1} ${job.key}: ${outcome.error ?? what}`);
}

await rotate(FILE_JOBS, RUNS, 3);
// The disabled calls run apart, after the page cache has written back what the file jobs left:
// writeback on the other core would otherwise land in some runs of a few-nanosecond loop.
await new Deno.Command("sync").output().catch(() => {});
await rotate(DISABLED_JOBS, DISABLED_RUNS, 1);
const loadAfter = loadAverage();
await Deno.remove(tempDir, { recursive: true });

// ---------------------------------------------------------------------------------------------
// 3. Summaries.

interface Summary {
  job: Job;
  rate: number;
  rates: number[];
  rss: number;
  /** Peak RSS of the run that used the most. */
  worstRss: number;
  bytesPerLine: number;
  lost: number;
  duplicates: number;
  malformed: number;
  late: number;
  errors: string[];
  valid: boolean;
}

function summarize(job: Job): Summary {
  const list = outcomes.get(job.key)!;
  const ok = list.filter((o) => o.report);
  const rates = ok.map((o) => rate(o, job.n));
  const lost = Math.max(0, ...ok.map((o) => (o.check ? job.n - o.check.distinct : 0)));
  const duplicates = Math.max(0, ...ok.map((o) => o.check?.duplicates ?? 0));
  const malformed = Math.max(0, ...ok.map((o) => o.check?.malformed ?? 0));
  const late = Math.max(0, ...ok.map((o) => o.late));
  const errors = list.flatMap((o) => (o.error ? [o.error] : []));
  const bytes = ok.map((o) => (o.check ? o.check.bytes / Math.max(1, o.check.lines) : NaN));
  return {
    job,
    rate: median(rates),
    rates,
    rss: median(ok.map((o) => o.report!.peakRss)),
    worstRss: Math.max(0, ...ok.map((o) => o.report!.peakRss)),
    bytesPerLine: median(bytes),
    lost,
    duplicates,
    malformed,
    late,
    errors,
    valid: errors.length === 0 && ok.length === list.length && lost === 0 && duplicates === 0 &&
      malformed === 0 && late === 0,
  };
}

function verdict(s: Summary): string {
  if (s.errors.length) return `failed: ${s.errors[0]}`;
  const problems: string[] = [];
  if (s.lost) problems.push(`lost ${formatInt(s.lost)}`);
  if (s.duplicates) problems.push(`${formatInt(s.duplicates)} duplicated`);
  if (s.malformed) problems.push(`${formatInt(s.malformed)} malformed`);
  if (s.late) problems.push(`${formatInt(s.late)} bytes written after "done"`);
  return problems.length ? `does not count: ${problems.join(", ")}` : "ok";
}

function throughputTable(summaries: Summary[]): string {
  const rows = summaries.map((s) =>
    `| ${s.job.label} | ${formatInt(s.rate)} | ${s.rates.map(formatInt).join(" / ")} | ${
      formatMiB(s.rss)
    } | ${s.bytesPerLine.toFixed(0)} | ${formatInt(s.lost)} | ${verdict(s)} |`
  );
  return [
    "| Logger (sink) | records/s (median) | runs | peak RSS (median) | bytes/line | lost (worst run) | verdict |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
}

const jsonSummaries = JSON_JOBS.map(summarize);
const textSummaries = TEXT_JOBS.map(summarize);
const disabledSummaries = DISABLED_JOBS.map((job) => {
  const list = outcomes.get(job.key)!.filter((o) => o.report);
  const ns = list.map((o) => o.report!.nsPerCall ?? o.report!.elapsedMs * 1e6 / job.n);
  return { job, ns: median(ns), runs: ns };
});

const byKey = (list: Summary[], key: string) => list.find((s) => s.job.key === key)!;
const sluiceJson = byKey(jsonSummaries, "sluice_json");
const pinoAsync = byKey(jsonSummaries, "pino_async");
const reference = byKey(jsonSummaries, "reference");
const sluiceText = byKey(textSummaries, "sluice_text");
const sluiceOff = disabledSummaries.find((d) => d.job.key === "sluice_off")!;
const pinoOff = disabledSummaries.find((d) => d.job.key === "pino_off")!;
const bestTextPeer = textSummaries.filter((s) => s.job.kind === "peer" && s.valid)
  .sort((a, b) => b.rate - a.rate)[0];

/** "met", or "met on the median" when some rounds missed the target, or "not met". */
const status = (ok: boolean, missed: number, of: number) =>
  !ok
    ? "**not met**"
    : missed
    ? `**met on the median** (missed in ${missed} of ${of} runs)`
    : "**met**";
const below = (a: number[], b: number[], ok: (ratio: number) => boolean) =>
  a.slice(0, b.length).filter((x, i) => !ok(x / b[i]!)).length;
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const jsonRatio = sluiceJson.rate / pinoAsync.rate;
const textRatio = sluiceText.rate / pinoAsync.rate;
const referenceRatio = sluiceJson.rate / reference.rate;
const goals = [
  `| In-process JSON to a file: >= 2x pino async, peak RSS <= 150 MB, zero lost | ${
    jsonRatio.toFixed(2)
  }x pino async (per run: ${perRun(sluiceJson.rates, pinoAsync.rates)}); peak RSS ${
    MB(sluiceJson.worstRss)
  } in the worst run (${formatMiB(sluiceJson.worstRss)}); lost ${formatInt(sluiceJson.lost)} | ${
    status(
      jsonRatio >= 2 && sluiceJson.worstRss <= 150e6 && sluiceJson.valid && pinoAsync.valid,
      below(sluiceJson.rates, pinoAsync.rates, (r) => r >= 2),
      pinoAsync.rates.length,
    )
  } |`,
  `| In-process JSON to a file: >= 0.9x the JSON.stringify + 64 KiB write reference (issue #18) | ${
    referenceRatio.toFixed(2)
  }x the reference (per run: ${perRun(sluiceJson.rates, reference.rates)}) | ${
    status(
      referenceRatio >= 0.9 && sluiceJson.valid && reference.valid,
      below(sluiceJson.rates, reference.rates, (r) => r >= 0.9),
      reference.rates.length,
    )
  } |`,
  `| Text formatter to a file: >= 2x pino plain output | ${textRatio.toFixed(2)}x pino async ` +
  `(per run: ${perRun(sluiceText.rates, pinoAsync.rates)}; pino's plain output is JSON)${
    bestTextPeer
      ? `; ${(sluiceText.rate / bestTextPeer.rate).toFixed(2)}x ${bestTextPeer.job.label}`
      : ""
  } | ${
    status(
      textRatio >= 2 && sluiceText.valid && pinoAsync.valid,
      below(sluiceText.rates, pinoAsync.rates, (r) => r >= 2),
      pinoAsync.rates.length,
    )
  } |`,
  `| A disabled call no slower than pino's | ${sluiceOff.ns.toFixed(2)} ns vs ${
    pinoOff.ns.toFixed(2)
  } ns (${(sluiceOff.ns / pinoOff.ns).toFixed(2)}x; per run: ${
    perRun(sluiceOff.runs, pinoOff.runs)
  }) | ${
    status(
      sluiceOff.ns <= pinoOff.ns,
      below(sluiceOff.runs, pinoOff.runs, (r) => r <= 1),
      pinoOff.runs.length,
    )
  } |`,
];

const section = `
## Peers: in-process logging to a file (\`deno task bench:peers\`)

${machineDescription()}
Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}. ${
  quick ? "**Quick mode: small N, one run; not a result.**" : ""
}

Workload: ${formatInt(N)} records, message \`${MESSAGE}\` and four fields (\`id\`, \`user\`,
\`path\`, \`status\`), logged in a tight loop at INFO, then whatever the logger needs to have
every record in the file (flush, end, dispose). Each peer runs in its own Deno process
(\`Deno.execPath() run -A bench/peers/<peer>.ts\`), ${RUNS} runs each, the order rotating from
run to run; medians are shown. The clock starts at the first call and stops when the peer
says the data is in the file; the script then stats the file (bytes arriving later void the
run) and reads every line back: each must carry the message and all four fields, ids must be
distinct and complete. Peak RSS is the child's VmHWM from /proc/self/status at the end. No
peer calls fsync except LogTape's getFileSink, which does on every flush (see calibration).

### Goals

| Goal | Measured in this run | Status |
| --- | --- | --- |
${goals.join("\n")}

Where a goal is not met, the Profile section of this file says what limits it.

### JSON to a file

${throughputTable(jsonSummaries)}

### Text to a file

pino has no text output of its own (human-readable lines need pino-pretty, a separate
transport that parses pino's JSON again), so there is no fair pino text peer: the goal is
measured against pino's plain JSON output, and LogTape's and winston's text formatters are
the fair text peers.

${throughputTable(textSummaries)}

### A disabled call (DEBUG below an INFO logger), ns per call

Each child makes the calls below in ${ROUNDS} timed rounds after one warm-up round and reports
its fastest round (the usual estimator for a few-nanosecond operation on a shared machine);
the table shows the median of ${DISABLED_RUNS} runs, made after the file workloads (and a
\`sync\`) so that no write-back lands in them. The fields object is built at every call site
(\`{ id: i }\`), as application code would.

| Logger | ns/call (median) | runs | calls per run |
| --- | ---: | ---: | ---: |
${
  disabledSummaries.map((d) =>
    `| ${d.job.label} | ${d.ns.toFixed(2)} | ${d.runs.map((x) => x.toFixed(2)).join(" / ")} | ${
      formatInt(d.job.n)
    } |`
  ).join("\n")
}

### LogTape sink calibration (${formatInt(CALIBRATION_N)} records, one run)

The fastest lossless one (\`${logtapeBest}\`) is used above.

| LogTape sink | records/s | lost |
| --- | ---: | ---: |
${
  calibration.map((c) =>
    `| ${LOGTAPE_VARIANTS[c.variant]} | ${formatInt(c.rate)} | ${
      c.error ? `failed: ${c.error}` : formatInt(c.lost)
    } |`
  ).join("\n")
}

![Peers chart](results.svg)
`;

const panels: Panel[] = [
  {
    title: `JSON to a file, ${formatInt(N)} records, records/s (longer is better)`,
    bars: jsonSummaries.map((s) => ({
      label: s.job.label,
      value: s.rate,
      text: `${formatInt(s.rate)}/s, ${formatMiB(s.rss)}${
        s.valid ? "" : " - INVALID: " + verdict(s)
      }`,
      kind: s.valid ? s.job.kind : "void",
    })),
  },
  {
    title: "Text to a file, records/s (longer is better)",
    bars: textSummaries.map((s) => ({
      label: s.job.label,
      value: s.rate,
      text: `${formatInt(s.rate)}/s${s.valid ? "" : " - INVALID"}`,
      kind: s.valid ? s.job.kind : "void",
    })),
  },
  {
    title: "A disabled call, ns per call (shorter is better; log scale)",
    scale: "log",
    bars: disabledSummaries.map((d) => ({
      label: d.job.label,
      value: d.ns,
      text: `${d.ns.toFixed(2)} ns`,
      kind: d.job.kind,
    })),
  },
];

console.log(section);
if (!dry) {
  writeSection("peers", section);
  await Deno.writeTextFile(join(BENCH_DIR, "results.svg"), barChartSvg("Sluice vs peers", panels));
  console.log("Wrote bench/RESULTS.md (peers section) and bench/results.svg");
}

/**
 * `deno task bench:costs`: what rotation and security cost per record. The workloads of
 * bench/rotating_file_bench.ts and bench/security_bench.ts (bench/cost_cases.ts) run
 * interleaved: every round times each case once, in an order rotating from round to round,
 * so that load from elsewhere lands on every case alike; a case's overhead is the median over
 * rounds of its time divided by the baseline's time in the same round. Background work a
 * rotation leaves (gzip) is awaited after each timed write and reported on its own. Writes
 * the "costs" section of bench/RESULTS.md. Flags: `--rounds 100`, `--dry` (print, write
 * nothing).
 *
 * @module
 */

import {
  type CostCase,
  rawWriteCases,
  ROTATION_RECORDS,
  rotationCases,
  SECURITY_RECORDS,
  securityCases,
} from "./cost_cases.ts";
import { formatInt, loadAverage, machineDescription, median, writeSection } from "./report.ts";

const argv = Deno.args;
const roundsIndex = argv.indexOf("--rounds");
const ROUNDS = roundsIndex === -1 ? 100 : Number(argv[roundsIndex + 1]);
const WARMUP = 3;
/** Iterations of a security case per timed sample (about 10,000 records). */
const SECURITY_REPEAT = 10;
const dry = argv.includes("--dry");

interface Measured {
  name: string;
  /** ms per sample, one per round. */
  times: number[];
  /** ms spent settling background work after each sample. */
  settleTimes: number[];
  /** time / baseline time of the same round. */
  ratios: number[];
}

async function interleave(cases: CostCase[], repeat: number): Promise<Measured[]> {
  const out = cases.map((c) =>
    ({ name: c.name, times: [], settleTimes: [], ratios: [] }) as Measured
  );
  const baseline = cases.findIndex((c) => c.baseline);
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const times = new Array<number>(cases.length);
    const settles = new Array<number>(cases.length);
    for (let k = 0; k < cases.length; k++) {
      const i = (k + round) % cases.length;
      const c = cases[i]!;
      const start = performance.now();
      for (let r = 0; r < repeat; r++) c.run();
      const mid = performance.now();
      await c.settle?.();
      times[i] = mid - start;
      settles[i] = performance.now() - mid;
    }
    if (round < WARMUP) continue;
    out.forEach((m, i) => {
      m.times.push(times[i]!);
      m.settleTimes.push(settles[i]!);
      m.ratios.push(times[i]! / times[baseline]!);
    });
  }
  return out;
}

const loadBefore = loadAverage();
const dir = await Deno.makeTempDir({ prefix: "sluice_costs_" });
let rotation: Measured[];
let rotationBytes: number;
try {
  const { cases, bytes, close } = rotationCases(dir);
  rotationBytes = bytes;
  try {
    // The 64 KiB probe creates and deletes about fifty files per sample: it runs in a phase of
    // its own (against the same baseline), so that the kernel's work behind it does not land
    // in the other rows' rounds.
    const isProbe = (c: CostCase) => c.name.includes("64KiB");
    rotation = await interleave(cases.filter((c) => !isProbe(c)), 1);
    const probeRounds = await interleave(cases.filter((c) => c.baseline || isProbe(c)), 1);
    rotation.push(probeRounds.find((m) => m.name.includes("64KiB"))!);
  } finally {
    await close();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log("  rotation: done");
const rawDir = await Deno.makeTempDir({ prefix: "sluice_costs_raw_" });
let raw: Measured[];
try {
  const { cases, close } = rawWriteCases(rawDir, rotationBytes);
  try {
    raw = await interleave(cases, 1);
  } finally {
    close();
  }
} finally {
  await Deno.remove(rawDir, { recursive: true });
}
console.log("  raw writes: done");
const security = await interleave(securityCases(), SECURITY_REPEAT);
console.log("  security: done");
const loadAfter = loadAverage();

/** µs per record from ms per sample. */
const us = (ms: number, records: number) => (ms * 1000 / records).toFixed(2);
const percent = (ratio: number) => `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(1)}%`;
const quartiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return [at(0.25), at(0.75)] as const;
};
const rotationRecords = ROTATION_RECORDS;
const securityRecords = SECURITY_RECORDS * SECURITY_REPEAT;
const fileMs = median(rotation.find((m) => m.name === "file")!.times);
const rotating = rotation.filter((m) => m.name !== "file");
/** Rotations per sample of a variant, from the size in its name. */
const rotationsPerSample = (name: string) => {
  const [, size, unit] = /(\d+)(KiB|MiB)/.exec(name)!;
  return rotationBytes / (Number(size) * (unit === "KiB" ? 1024 : 1024 * 1024));
};
/** µs one rotation adds, from a variant's median overhead. */
const perRotation = (m: Measured) =>
  (median(m.ratios) - 1) * fileMs * 1000 / rotationsPerSample(m.name);
const probe = rotating.find((m) => m.name.includes("64KiB"))!;
const oneMiB = rotating.find((m) => m.name === "rotating_file max_bytes 1MiB")!;
const rawDeleted = raw.find((m) => m.name.includes("deleting"))!;
const rawAppend = raw.find((m) => m.name.startsWith("append"))!;
/** The raw extra of new files and deletions over appending, as a share of the sink's time. */
const rawShare = (median(rawDeleted.times) - median(rawAppend.times)) / fileMs * 100;
/** What rotating every 1 MiB would cost at the 64 KiB probe's price per rotation (percent). */
const predicted1MiB = perRotation(probe) * rotationsPerSample("1MiB") / 1000 / fileMs * 100;
const goalLines = rotating.filter((m) => m !== probe).map((m) => {
  const ratio = median(m.ratios);
  return `- ${m.name}: ${percent(ratio)}, **${
    ratio < 1.1 ? "met" : "not met"
  }** (one rotation per ${formatInt(ROTATION_RECORDS / rotationsPerSample(m.name))} records)`;
}).join("\n");

const section = `## Costs: rotation and security (\`deno task bench:costs\`)

${machineDescription()}
Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.

Method: the workloads of \`deno task bench\` (bench/cost_cases.ts) in one process, ${ROUNDS}
rounds after ${WARMUP} warm-up rounds; each round times every case once, the order rotating
from round to round (the 64 KiB rotation probe and the raw writes run in phases of their own). A case's overhead is the median over rounds of its time divided by the
baseline's time in the same round (the interquartile range of that ratio is shown), so load
from elsewhere lands on both sides of each ratio.

### Rotation against a plain file sink

Each sample writes 20 batches of 1,000 JSON records (${
  (rotationBytes / 1e6).toFixed(1)
} MB) through the sink's \`writeSync\`: a 1 MiB variant rotates ${
  rotationsPerSample("1MiB").toFixed(1)
} times per sample on average, the 10 MiB variant once every ${
  (1 / rotationsPerSample("10MiB")).toFixed(1)
} samples. Background work (compression with \`compress: gzip\`, emptying the trash of
deleted backups, creating the next live file ahead) is awaited after each sample, outside the
timed write, and its time is the last column. The trash is emptied there once per sample, where
a running sink empties it per 8 files or once a second: one dispatch of about 60 µs, under 0.5%
of a sample.

| Sink | µs per record (median) | overhead vs \`file\` (median) | IQR of the overhead | background work, µs per record |
| --- | ---: | ---: | --- | ---: |
${
  rotation.map((m) => {
    const [q1, q3] = quartiles(m.ratios);
    const settle = median(m.settleTimes);
    return `| ${m.name} | ${us(median(m.times), rotationRecords)} | ${
      m.name === "file" ? "baseline" : percent(median(m.ratios))
    } | ${m.name === "file" ? "" : `${percent(q1)} .. ${percent(q3)}`} | ${
      settle > 0.05 ? us(settle, rotationRecords) : "-"
    } |`;
  }).join("\n")
}

Goal: rotation costs under 10% against a plain file sink.

${goalLines}

A rotation closes the live file, moves the oldest backup into the trash (a hidden directory
removed in one background operation), renames the rest of the chain, and renames the next live
file, created in the background after the previous rotation, into place. The 64 KiB variant rotates ${
  rotationsPerSample(probe.name).toFixed(0)
} times per sample (${percent(median(probe.ratios))}; not a goal row, since nobody rotates
64 KiB files): about ${
  perRotation(probe).toFixed(0)
} µs per rotation, everything included (Sluice's calls and the kernel's work they cause). At
that price, rotating every 1 MiB would cost ${predicted1MiB.toFixed(1)}% of the \`file\` sink's ${
  fileMs.toFixed(1)
} ms per sample; measured: ${
  percent(median(oneMiB.ratios))
}. The probe's price explains only part of that. Writing into new files costs more than
appending even without Sluice: the same bytes written raw (after the rounds above), in new
1 MiB files and deleting old ones, against appending to one file:

| Raw writes (${
  (rotationBytes / 1e6).toFixed(1)
} MB per sample, 32 KiB each) | ms per sample (median) | vs appending (median) |
| --- | ---: | ---: |
${
  raw.map((m) =>
    `| ${m.name} | ${median(m.times).toFixed(2)} | ${
      m.name.startsWith("append") ? "baseline" : percent(median(m.ratios))
    } |`
  ).join("\n")
}

That adds ${
  rawShare.toFixed(1)
}% of the sink's time at most; the rest of the gap is not explained by these probes. At 10 MiB,
one rotation per ${
  formatInt(ROTATION_RECORDS / rotationsPerSample("10MiB"))
} records, the overhead is within noise.

### Security: what each protection adds to formatting a record

Each sample formats ${formatInt(securityRecords)} records (a message with an order number and
five fields) to lines; the baseline is the \`json\` formatter alone.

| Formatter | µs per record (median) | x json (median) | records/s on one core |
| --- | ---: | ---: | ---: |
${
  security.map((m) =>
    `| ${m.name} | ${us(median(m.times), securityRecords)} | ${median(m.ratios).toFixed(1)} | ${
      formatInt(securityRecords / (median(m.times) / 1000))
    } |`
  ).join("\n")
}
`;

console.log(section);
if (!dry) writeSection("costs", section);

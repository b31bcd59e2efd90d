/**
 * What a call site costs per log call: Sluice's `caller: true` beside LogTape's
 * `captureSourceLocation: true`, each against itself with capture off, in one process,
 * records delivered to a sink that discards them. Rounds alternate; the best round of each
 * is reported (ns per call).
 *
 * `npx -y deno@2.9.6 run -A bench/caller_bench.ts`
 *
 * @module
 */

// Peers are dev-only dependencies of bench/, pinned here so they never reach the library's imports.
// deno-lint-ignore no-import-prefix
import * as logtape from "npm:@logtape/logtape@2.4.2";
import { configure, definePlugin, getLogger, s, shutdown } from "../mod.ts";

const CALLS = 50_000;
const ROUNDS = 7;

const discard = definePlugin({
  kind: "sink",
  type: "discard",
  description: "Discards batches.",
  options: s.object({}),
  create: () => ({
    write() {},
    writeSync() {},
    async [Symbol.asyncDispose]() {},
  }),
});

await configure({
  loggers: { "": "info", "with_site": { caller: true } },
  sources: { app: { type: "logger" } },
  sinks: { out: { type: "discard", buffer: { max_records: 1_000_000, max_bytes: "1GiB" } } },
}, { plugins: [discard] });

let seen = 0;
await logtape.configure({
  sinks: { null: () => void seen++ },
  loggers: [
    { category: ["plain"], sinks: ["null"], lowestLevel: "info" },
    { category: ["site"], sinks: ["null"], lowestLevel: "info", captureSourceLocation: true },
    { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
  ],
});

const sluiceOff = getLogger("no_site");
const sluiceOn = getLogger("with_site");
const tapeOff = logtape.getLogger(["plain"]);
const tapeOn = logtape.getLogger(["site"]);

const cases: [string, () => void][] = [
  ["sluice caller off", () => {
    for (let i = 0; i < CALLS; i++) sluiceOff.info("paid", { n: i });
  }],
  ["sluice caller on", () => {
    for (let i = 0; i < CALLS; i++) sluiceOn.info("paid", { n: i });
  }],
  ["logtape captureSourceLocation off", () => {
    for (let i = 0; i < CALLS; i++) tapeOff.info("paid", { n: i });
  }],
  ["logtape captureSourceLocation on", () => {
    for (let i = 0; i < CALLS; i++) tapeOn.info("paid", { n: i });
  }],
];

const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of cases) {
    const start = performance.now();
    run();
    const ns = (performance.now() - start) * 1e6 / CALLS;
    best.set(name, Math.min(best.get(name) ?? Infinity, ns));
    await new Promise((r) => setTimeout(r, 0)); // let Sluice's sink drain between rounds
  }
}
for (const [name, ns] of best) {
  console.log(`${name.padEnd(36)} ${ns.toFixed(0).padStart(6)} ns/call`);
}
const sluiceCost = best.get("sluice caller on")! - best.get("sluice caller off")!;
const tapeCost = best.get("logtape captureSourceLocation on")! -
  best.get("logtape captureSourceLocation off")!;
console.log(
  `call-site cost: sluice +${sluiceCost.toFixed(0)} ns, logtape +${tapeCost.toFixed(0)} ns`,
);
await shutdown();
await logtape.dispose();

/**
 * A/B of the in-process workload between checkouts: runs `bench/peers/sluice.ts` from each
 * root in turn (alternating, so machine noise is shared), verifies every output line, and
 * prints the median records/s and peak RSS per root. Used to measure a proposed engine change
 * on a scratch copy before it is applied.
 *
 * `deno run -A bench/ab.ts --roots /work/main,/tmp/scratch [--mode json|text] [--n 1000000] [--runs 5] [--reference]`
 *
 * `--reference` (json) runs `bench/peers/reference.ts` (`JSON.stringify` + 64 KiB `writeSync`)
 * in each round too, alternating with the roots, and prints each root's ratio to it per run
 * and on the medians: issue #18's "no wasted work" goal, measured in one run. One root alone
 * is allowed then (`--roots .`). Each child also reports its CPU time over the timed
 * interval (user + system, all threads), printed as µs per record and as a CPU-time ratio:
 * other agents' load moves it far less than wall time.
 *
 * @module
 */

import { join } from "node:path";
import { formatInt, formatMiB, loadAverage, median } from "./report.ts";
import type { PeerReport } from "./peers/common.ts";
import { verifyOutput } from "./verify.ts";

const argv = Deno.args;
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : argv[i + 1]!;
};
const roots = option("roots", "").split(",").filter(Boolean);
const withReference = argv.includes("--reference");
if (roots.length < (withReference ? 1 : 2)) {
  throw new Error("Give at least two checkouts (--roots A,B), or one with --reference");
}
const mode = option("mode", "json") as "json" | "text";
if (withReference && mode !== "json") throw new Error("The reference only writes JSON");
const n = Number(option("n", "1000000"));
const runs = Number(option("runs", "5"));
/** The reference's key in the results: not a path, so no root can clash with it. */
const REFERENCE = "reference (JSON.stringify + 64 KiB writeSync)";
const entries = withReference ? [...roots, REFERENCE] : roots;

const dir = await Deno.makeTempDir({ prefix: "sluice_ab_" });
const results = new Map<string, { rate: number; rss: number; cpu: number }[]>(
  entries.map((r) => [r, []]),
);
console.log(`A/B ${mode}, n=${n}, runs=${runs}, load ${loadAverage()}`);
try {
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? entries : [...entries].reverse();
    for (const root of order) {
      const out = join(dir, "out.log");
      await Deno.writeFile(out, new Uint8Array());
      const script = root === REFERENCE
        ? join(import.meta.dirname!, "peers", "reference.ts")
        : join(root, "bench", "peers", "sluice.ts");
      const result = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          script,
          "--mode",
          mode,
          "--n",
          String(n),
          "--out",
          out,
        ],
        cwd: root === REFERENCE ? import.meta.dirname! : root,
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (!result.success) throw new Error(`${root} failed with exit code ${result.code}`);
      const report = JSON.parse(
        new TextDecoder().decode(result.stdout).trim().split("\n").at(-1)!,
      ) as PeerReport;
      const check = await verifyOutput(out, mode, n);
      if (check.distinct !== n || check.malformed || check.duplicates) {
        throw new Error(`${root} lost or garbled records: ${JSON.stringify(check)}`);
      }
      const rate = n / (report.elapsedMs / 1000);
      // CPU µs per record (NaN from a checkout whose peer script does not report it).
      const cpu = (report.cpuMs ?? NaN) * 1000 / n;
      results.get(root)!.push({ rate, rss: report.peakRss, cpu });
      console.log(
        `  run ${run + 1} ${root}: ${formatInt(rate)} rec/s, ${cpu.toFixed(3)} CPU µs/record, ${
          formatMiB(report.peakRss)
        }`,
      );
    }
    if (withReference) {
      const reference = results.get(REFERENCE)!.at(-1)!.rate;
      const ratios = roots.map((r) => (results.get(r)!.at(-1)!.rate / reference).toFixed(2));
      const referenceCpu = results.get(REFERENCE)!.at(-1)!.cpu;
      const cpuRatios = roots.map((r) => (referenceCpu / results.get(r)!.at(-1)!.cpu).toFixed(2));
      console.log(
        `  run ${run + 1} ratio to the reference: ${ratios.join(" / ")} (by CPU time: ${
          cpuRatios.join(" / ")
        })`,
      );
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
const base = median(results.get(roots[0]!)!.map((r) => r.rate));
const reference = withReference ? median(results.get(REFERENCE)!.map((r) => r.rate)) : NaN;
const referenceCpu = withReference ? median(results.get(REFERENCE)!.map((r) => r.cpu)) : NaN;
for (const root of entries) {
  const list = results.get(root)!;
  const rate = median(list.map((r) => r.rate));
  const cpu = median(list.map((r) => r.cpu));
  const vsReference = withReference
    ? `, ${(rate / reference).toFixed(2)}x the reference; by CPU time ${
      (referenceCpu / cpu).toFixed(2)
    }x`
    : "";
  console.log(
    `${root}: median ${formatInt(rate)} rec/s (${(rate / base).toFixed(2)}x ${
      roots[0]
    }${vsReference}), median ${cpu.toFixed(3)} CPU µs/record, peak RSS median ${
      formatMiB(median(list.map((r) => r.rss)))
    }`,
  );
}
console.log(`load after: ${loadAverage()}`);

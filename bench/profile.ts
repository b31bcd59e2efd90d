/**
 * Profiles a peer workload with V8's sampling profiler (`deno run --cpu-prof`) and prints
 * the hot spots as Markdown: self time by function, and inclusive time of the engine's own
 * functions. `deno run -A bench/profile.ts [--n 1000000] [--mode json|text] [--script sluice.ts]`,
 * or `--profile FILE.cpuprofile` to summarize a profile taken elsewhere (such as
 * `deno run --cpu-prof --cpu-prof-dir=DIR src/cli/main.ts run --config FILE`).
 *
 * @module
 */

import { join, relative } from "node:path";
import { BENCH_DIR, ROOT } from "./report.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const argv = Deno.args;
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : argv[i + 1]!;
};
const n = option("n", "1000000");
const mode = option("mode", "json");
const script = option("script", "sluice.ts");
const top = Number(option("top", "25"));

const existing = argv.includes("--profile") ? option("profile", "") : "";
if (existing) {
  // Summarize a .cpuprofile written elsewhere (e.g. `sluice run` under --cpu-prof).
  const profile = JSON.parse(await Deno.readTextFile(existing)) as CpuProfile;
  console.log(summarize(profile, existing, "n/a"));
  Deno.exit(0);
}

const dir = await Deno.makeTempDir({ prefix: "sluice_profile_" });
try {
  const out = join(dir, "out.log");
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      join(BENCH_DIR, "peers", script),
      "--mode",
      mode,
      "--n",
      n,
      "--out",
      out,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!result.success) throw new Error(`The profiled child failed with exit code ${result.code}`);
  const report = new TextDecoder().decode(result.stdout).trim().split("\n").at(-1);
  const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`No .cpuprofile was written to ${dir}`);
  const profile = JSON.parse(await Deno.readTextFile(join(dir, file.name))) as CpuProfile;
  console.log(summarize(profile, `${script} --mode ${mode} --n ${n}`, report ?? ""));
} finally {
  await Deno.remove(dir, { recursive: true });
}

function nameOf(frame: CallFrame): string {
  const fn = frame.functionName || "(anonymous)";
  if (!frame.url) return fn;
  let where = frame.url;
  if (where.startsWith("file://")) where = relative(ROOT, new URL(where).pathname);
  return `${fn} ${where}:${frame.lineNumber + 1}`;
}

/** Self and inclusive sample time per function, as Markdown tables. */
function summarize(profile: CpuProfile, what: string, report: string): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfTime = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i]!;
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
    total += dt;
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const name = nameOf(byId.get(id)!.callFrame);
    self.set(name, (self.get(name) ?? 0) + time);
    // Count each function once per stack, however often it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frameName = nameOf(byId.get(at)!.callFrame);
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      inclusive.set(frameName, (inclusive.get(frameName) ?? 0) + time);
    }
  }
  const pct = (t: number) => `${((t / total) * 100).toFixed(1)}%`;
  const ms = (t: number) => (t / 1000).toFixed(0);
  const rows = (map: Map<string, number>, filter: (name: string) => boolean) =>
    [...map].filter(([name]) => filter(name)).sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, t]) => `| \`${name}\` | ${ms(t)} | ${pct(t)} |`).join("\n");
  const ours = (name: string) => /(^| |\/)(src|plugins|bench)\//.test(name);
  return `Profile of \`${what}\` (child report: ${report}); ${profile.samples.length} samples, ${
    ms(total)
  } ms sampled.

Self time, top ${top}:

| Function | self ms | share |
| --- | ---: | ---: |
${rows(self, () => true)}

Inclusive time of Sluice's own functions:

| Function | total ms | share |
| --- | ---: | ---: |
${rows(inclusive, ours)}
`;
}

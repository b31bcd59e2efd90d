/**
 * `deno task bench:cold`: the cost of importing Sluice in a new process, beside LogTape and
 * pino. Each case is a one-line script in a temp dir outside the repo (as a user's would be)
 * run by a fresh `deno run`; hyperfine times them (warm-up runs first, so the transpile and
 * npm caches are warm and what is measured is loading, not downloading), and `/usr/bin/time`
 * takes each process's peak RSS. `deno` running an empty script is the floor every case pays.
 * "Sluice before" is commit 25ba4c8 (yaml imported statically, the import map needed), and
 * "Sluice before importNpm" commit f091fcd (yaml, nats and postgres imported by literal
 * specifiers, so in mod.ts's module graph), each from `git archive`. Writes the "cold_import"
 * section of bench/RESULTS.md.
 *
 * Flags: `--runs 30`, `--dry` (print, write nothing).
 *
 * @module
 */

import { join } from "node:path";
import { formatInt, machineDescription, median, ROOT, writeSection } from "./report.ts";

const args = Deno.args;
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = value("runs", 30);
const BEFORE = "25ba4c8";
/** The last commit whose mod.ts graph named npm packages (before `importNpm()`). */
const BEFORE_LAZY = "f091fcd";

const dir = await Deno.makeTempDir({ prefix: "sluice_cold_" });
/** The tree of `commit`, extracted into the temp dir. */
function checkout(commit: string): string {
  const tree = join(dir, commit);
  Deno.mkdirSync(tree);
  const archive = new Deno.Command("sh", {
    args: ["-c", `git -C '${ROOT}' archive ${commit} | tar -x -C '${tree}'`],
  }).outputSync();
  if (!archive.success) throw new Error(new TextDecoder().decode(archive.stderr));
  return tree;
}
const before = checkout(BEFORE);
const beforeLazy = new URL(`file://${checkout(BEFORE_LAZY)}/mod.ts`).href;

const mod = new URL("../mod.ts", import.meta.url).href;
interface Case {
  name: string;
  source: string;
  /** Extra `deno run` flags. */
  flags?: string[];
}
const cases: Case[] = [
  { name: "deno (empty script)", source: "" },
  { name: "Sluice: import mod.ts", source: `import ${JSON.stringify(mod)};` },
  {
    name: "Sluice: import, configure from an object, log one record",
    source: `import { configure, getLogger, shutdown } from ${JSON.stringify(mod)};
await configure({ sources: { app: { type: "logger" } }, sinks: { out: { type: "memory" } } });
getLogger("app").info("ready");
await shutdown();`,
  },
  {
    name: `Sluice before importNpm (${BEFORE_LAZY}): import mod.ts`,
    source: `import ${JSON.stringify(beforeLazy)};`,
  },
  {
    name: `Sluice before importNpm (${BEFORE_LAZY}): import, configure, log one record`,
    source: `import { configure, getLogger, shutdown } from ${JSON.stringify(beforeLazy)};
await configure({ sources: { app: { type: "logger" } }, sinks: { out: { type: "memory" } } });
getLogger("app").info("ready");
await shutdown();`,
  },
  {
    name: `Sluice before (${BEFORE}): import mod.ts`,
    source: `import ${JSON.stringify(`file://${before}/mod.ts`)};`,
    // The old version resolved "yaml" through its own import map only.
    flags: ["--config", join(before, "deno.json"), "--no-lock"],
  },
  {
    name: "LogTape 2.4.2: import",
    source: `import "npm:@logtape/logtape@2.4.2";`,
  },
  { name: "pino 10.4.0: import", source: `import "npm:pino@10.4.0";` },
];

function commandOf(c: Case, i: number): string[] {
  const script = join(dir, `case_${i}.ts`);
  Deno.writeTextFileSync(script, c.source + "\n");
  return [Deno.execPath(), "run", "-A", ...(c.flags ?? []), script];
}
const commands = cases.map(commandOf);

const quote = (parts: string[]) => parts.map((p) => `'${p}'`).join(" ");
const json = join(dir, "hyperfine.json");
const hyperfine = await new Deno.Command("hyperfine", {
  args: [
    "--shell=none",
    "--warmup",
    "3",
    "--runs",
    String(RUNS),
    "--export-json",
    json,
    ...commands.map(quote),
  ],
  cwd: dir,
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!hyperfine.success) throw new Error("hyperfine failed");
const timed = JSON.parse(Deno.readTextFileSync(json)) as {
  results: { median: number; min: number; max: number }[];
};

/** Peak RSS in KiB and CPU seconds (user + system) of one run, from `/usr/bin/time`. */
async function usageOf(command: string[]): Promise<{ rssKiB: number; cpu: number }> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M %U %S", ...command],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  const [rssKiB, user, system] = lines[lines.length - 1]!.split(" ").map(Number);
  return { rssKiB: rssKiB!, cpu: user! + system! };
}
const rss: number[][] = cases.map(() => []);
const cpu: number[][] = cases.map(() => []);
for (let run = 0; run < RUNS; run++) {
  // Alternating: each round measures every case once.
  for (let i = 0; i < cases.length; i++) {
    const usage = await usageOf(commands[i]!);
    rss[i]!.push(usage.rssKiB);
    cpu[i]!.push(usage.cpu);
  }
}
await Deno.remove(dir, { recursive: true });

const floor = timed.results[0]!.median * 1000;
const rows = cases.map((c, i) => {
  const t = timed.results[i]!;
  const ms = t.median * 1000;
  const over = i === 0 ? "" : `${formatInt(Math.round(ms - floor))}`;
  return `| ${c.name} | ${ms.toFixed(1)} | ${over} | ${(t.min * 1000).toFixed(1)}-${
    (t.max * 1000).toFixed(1)
  } | ${Math.round(median(cpu[i]!) * 1000)} | ${(median(rss[i]!) / 1024).toFixed(1)} |`;
});
const section = `## Cold import (\`deno task bench:cold\`)

${machineDescription()}

A new \`deno run\` process per run, the script in a temp dir outside the repo; warm caches
(3 warm-up runs), so loading is measured, not downloading. Time: hyperfine, ${RUNS} runs per case,
median; "over deno" subtracts the empty script's median. CPU (user + system, 10 ms ticks) and
peak RSS: \`/usr/bin/time\`, medians of ${RUNS} more runs, alternating between cases (CPU time
moves less than wall time when other work shares the machine).

What importing mod.ts still costs: no npm package is loaded or resolved. Since \`importNpm()\`
(the "before importNpm" rows are the commit before it) mod.ts's module graph names none
(\`deno info mod.ts\`), and at start Deno makes no file system call into its npm cache (strace: 0,
29 before); that saved 1-2 MiB of peak RSS (three runs), while time and CPU moved within the
noise. The cost is Deno reading every module reachable through a literal \`import()\` when the
process starts, the built-in plugins' too (190 \`.ts\` files opened for mod.ts). Making those
imports unanalyzable saved 10 ms of CPU and 4 MiB in a trial but would need \`--allow-read\` for
them and hide them from \`deno compile\` and JSR: not done.

| Case | wall ms (median) | ms over deno | min-max ms | CPU ms | peak RSS MiB |
|------|-----------------:|-------------:|-----------:|-------:|-------------:|
${rows.join("\n")}
`;
console.log(section);
if (!flag("dry")) writeSection("cold_import", section);

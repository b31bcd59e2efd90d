/**
 * The stats sink's cost: the same pipeline (a file source tailing N JSON lines of three
 * services into a `file` sink) with and without a `stats` sink beside it. Each run is its own
 * process; runs alternate; records/s until every record is written, and peak RSS (VmHWM).
 *
 * Run: `deno run -A bench/stats_cost.ts [records] [rounds]`
 *
 * @module
 */

import { loadConfig, Pipeline } from "../mod.ts";
import { writeServiceLogs } from "../examples/14_aggregator_results/main.ts";

async function once(dir: string, withStats: boolean, total: number): Promise<void> {
  const sinks: Record<string, unknown> = {
    out: { type: "file", path: `${dir}/out.jsonl`, format: "json", inputs: ["files"] },
  };
  if (withStats) sinks.analysis = { type: "stats", inputs: ["files"] };
  const { config, formatters } = await loadConfig({
    data_dir: `${dir}/.sluice-${withStats}`,
    sources: { files: { type: "file", include: [`${dir}/service*.log`], parser: "json" } },
    sinks,
  });
  const started = performance.now();
  await using pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  while (pipeline.metrics.sum("records_out_total", { component: "out" }) < total) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))![1]!;
  console.log(JSON.stringify({ rate: total / seconds, rss_mib: Number(hwm) / 1024 }));
}

if (Deno.args[0] === "--child") {
  await once(Deno.args[1]!, Deno.args[2] === "on", Number(Deno.args[3]));
} else {
  const perService = Math.ceil(Number(Deno.args[0] ?? 300_000) / 3);
  const rounds = Number(Deno.args[1] ?? 3);
  const total = perService * 3;
  const dir = await Deno.makeTempDir({ prefix: "stats-cost-" });
  const results: Record<string, { rate: number; rss_mib: number }[]> = { off: [], on: [] };
  try {
    await writeServiceLogs(dir, perService);
    for (let r = 0; r < rounds; r++) {
      for (const mode of r % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
        await Deno.remove(`${dir}/out.jsonl`).catch(() => {});
        await Deno.remove(`${dir}/.sluice-${mode === "on"}`, { recursive: true }).catch(() => {});
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", import.meta.filename!, "--child", dir, mode, String(total)],
          stdout: "piped",
          stderr: "inherit",
        }).output();
        results[mode]!.push(JSON.parse(new TextDecoder().decode(out.stdout)));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const mode of ["off", "on"]) {
    const runs = results[mode]!;
    console.log(
      `stats ${mode}: ${Math.round(median(runs.map((r) => r.rate)))} records/s, ` +
        `peak RSS ${Math.round(median(runs.map((r) => r.rss_mib)))} MiB ` +
        `(runs: ${runs.map((r) => Math.round(r.rate)).join(", ")})`,
    );
  }
}

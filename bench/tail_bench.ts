/**
 * Tail throughput (`deno task bench`): lines per second from one big file through the `file`
 * source into a `file` sink, raw lines (`parser: text`) and JSON lines (`parser: json`).
 * The file is 64 MiB by default; `SLUICE_TAIL_BENCH_MIB=1024` measures the 1 GiB case. Each
 * iteration starts a fresh pipeline with an empty data directory, waits until the sink has
 * written every line, and shuts down; lines/s is printed at the end.
 *
 * @module
 */

import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { Pipeline } from "../src/pipeline/pipeline.ts";

const mib = Number(Deno.env.get("SLUICE_TAIL_BENCH_MIB") ?? "64");
const dir = Deno.makeTempDirSync({ prefix: "sluice_tail_bench_" });
const input = join(dir, "input.log");

// About 120-byte JSON lines, as a service would write them.
let lines = 0;
{
  const file = Deno.openSync(input, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const target = mib * 1024 * 1024;
  let written = 0;
  while (written < target) {
    let chunk = "";
    for (let i = 0; i < 10_000; i++, lines++) {
      chunk += `{"time":"2026-11-24T10:00:00.${String(lines % 1000).padStart(3, "0")}Z",` +
        `"level":"info","logger":"svc.api","message":"request ${lines} handled","ms":${
          lines % 97
        }}\n`;
    }
    const bytes = encoder.encode(chunk);
    let offset = 0;
    while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
    written += bytes.length;
  }
  file.close();
}

const best = new Map<string, number>();
let run = 0;

async function tailOnce(parser: "text" | "json"): Promise<void> {
  const runDir = join(dir, `run${run++}`);
  const started = performance.now();
  const { config, formatters } = await loadConfig({
    data_dir: join(runDir, "state"),
    sources: {
      tail: { type: "file", include: input, parser, file_field: "", poll_interval: "5ms" },
    },
    sinks: {
      out: {
        type: "file",
        path: join(runDir, "out.log"),
        format: parser === "text" ? { type: "text", pattern: "{message}" } : "json",
      },
    },
  }, { baseDir: dir });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  while (pipeline.metrics.sum("records_out_total", { component: "out" }) < lines) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await pipeline.shutdown();
  const seconds = (performance.now() - started) / 1000;
  best.set(parser, Math.max(best.get(parser) ?? 0, lines / seconds));
  Deno.removeSync(runDir, { recursive: true });
}

// Deno awaits only functions declared async.
Deno.bench(
  { name: `tail ${mib} MiB, raw lines → file`, group: "tail", n: 3, warmup: 0 },
  async () => await tailOnce("text"),
);
Deno.bench(
  { name: `tail ${mib} MiB, JSON lines → file`, group: "tail", n: 3, warmup: 0 },
  async () => await tailOnce("json"),
);

globalThis.addEventListener("unload", () => {
  for (const [parser, rate] of best) {
    console.log(
      `tail ${parser}: ${
        Math.round(rate).toLocaleString("en")
      } lines/s (${lines} lines, ${mib} MiB)`,
    );
  }
  Deno.removeSync(dir, { recursive: true });
});

/**
 * Slide 13–14, the high-performance log aggregator: three services' log files tailed at once
 * into a `stats` sink, and the real-time analysis printed as slide 14 prints it.
 *
 * Run: `deno run -A examples/14_aggregator_results/main.ts [records per service]`
 *
 * @module
 */

import { loadConfig, Pipeline, type StatsAnalysis } from "../../mod.ts";

const SERVICES = ["service1", "service2", "service3"] as const;
const MESSAGES = {
  INFO: "Request handled",
  WARNING: "Slow response",
  ERROR: ["Database connection timeout", "Authentication failed"],
};

/** Writes `perService` JSON lines per service: mostly INFO, some WARNING, a few ERROR. */
export async function writeServiceLogs(dir: string, perService: number): Promise<void> {
  for (const [s, service] of SERVICES.entries()) {
    const lines: string[] = [];
    for (let i = 0; i < perService; i++) {
      // Every 40th record a warning, every 1000th an error; ten records per trace.
      const level = i % 1000 === 999 ? "ERROR" : i % 40 === 39 ? "WARNING" : "INFO";
      const message = level === "ERROR"
        ? MESSAGES.ERROR[(i + s) % 2]!
        : MESSAGES[level as "INFO" | "WARNING"];
      const trace = (s * 1_000_000 + Math.floor(i / 10) + 1).toString(16).padStart(32, "0");
      const span = (i + 1).toString(16).padStart(16, "0");
      lines.push(JSON.stringify({
        time: new Date(Date.UTC(2023, 10, 18, 13, 0, 0) + i).toISOString(),
        level,
        message,
        service,
        trace_id: trace,
        span_id: span,
      }));
    }
    await Deno.writeTextFile(`${dir}/${service}.log`, lines.join("\n") + "\n");
  }
}

/** Tails `dir/service*.log` into a stats sink until `expected` records are counted. */
export async function aggregate(dir: string, expected: number): Promise<StatsAnalysis> {
  const { config, formatters } = await loadConfig({
    data_dir: `${dir}/.sluice`,
    sources: {
      files: { type: "file", include: [`${dir}/service*.log`], parser: "json" },
    },
    sinks: {
      analysis: { type: "stats", inputs: ["files"], window: "5m", service_field: "service" },
    },
  });
  await using pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const analysis = pipeline.stats().get("analysis") as StatsAnalysis;
    if (analysis.records_total >= expected) return analysis;
    if (Date.now() > deadline) {
      throw new Error(`Only ${analysis.records_total} of ${expected} records counted in 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Slide 14's printout of an analysis. */
export function printAnalysis(analysis: StatsAnalysis): string {
  const { total_services, active_traces, service_distribution, recent_errors } = analysis;
  return "Analysis Results:\n" +
    JSON.stringify(
      {
        total_services,
        active_traces,
        service_distribution,
        recent_errors: recent_errors.slice(0, 2),
      },
      null,
      2,
    ) + "\n";
}

if (import.meta.main) {
  const perService = Number(Deno.args[0] ?? 16_000);
  const dir = await Deno.makeTempDir({ prefix: "aggregator-" });
  try {
    await writeServiceLogs(dir, perService);
    const started = performance.now();
    const analysis = await aggregate(dir, perService * SERVICES.length);
    const seconds = (performance.now() - started) / 1000;
    Deno.stdout.writeSync(new TextEncoder().encode(printAnalysis(analysis)));
    const rate = Math.round(analysis.records_total / seconds);
    const rss = Math.round(Deno.memoryUsage().rss / 2 ** 20);
    console.log(`\nPerformance Metrics:\n- Throughput: ${rate} logs/second (start-up included)`);
    console.log(`- Memory usage: ${rss}MB`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

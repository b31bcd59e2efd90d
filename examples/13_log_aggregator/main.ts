/**
 * Slide 13, "Real-World Application: High-Performance Log Aggregator": read several services'
 * log files concurrently, parse each line, count per service and level, track active traces,
 * keep recent errors, and write batches to a database.
 *
 * In Sluice, that is a config (`sluice.yaml` beside this file) run by the agent,
 * `sluice run`: a `file` source tails every `service*.log` (rotation-safe, checkpointed, with
 * back-pressure instead of an unbounded buffer), a `regex` parser turns the slide's lines
 * into records, the `stats` sink is the analysis, and the `sqlite` sink the database. This
 * program writes the three files, starts `sluice run` as a real process, reads the analysis
 * from `GET /stats/analysis` and the errors back from the database with `sluice query`, then
 * stops the agent with SIGTERM (it drains before it exits).
 *
 * Run: `deno run -A examples/13_log_aggregator/main.ts [records per service]`
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const perService = Number(Deno.args[0] ?? 1000);
const dir = await Deno.makeTempDir({ prefix: "sluice-13-" });
const config = fileURLToPath(new URL("./sluice.yaml", import.meta.url));
const cli = [
  "run",
  "--quiet",
  `--config=${fileURLToPath(new URL("../../deno.json", import.meta.url))}`,
  "-A",
  fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url)),
];

// The slide's input: `timestamp | level | message | service | trace_id` lines.
for (const [s, service] of ["service1", "service2", "service3"].entries()) {
  const lines = [];
  for (let i = 0; i < perService; i++) {
    const level = i % 100 === 99 ? "ERROR" : i % 10 === 9 ? "WARNING" : "INFO";
    const message = level === "ERROR"
      ? ["Database connection timeout", "Authentication failed"][(Math.floor(i / 100) + s) % 2]
      : "Request handled";
    const time = (1700312345.678 + i / 1000).toFixed(3);
    lines.push(`${time} | ${level} | ${message} | ${service} | trace-${s}-${Math.floor(i / 4)}`);
  }
  await Deno.writeTextFile(`${dir}/${service}.log`, lines.join("\n") + "\n");
}

const port = (() => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
})();
const agent = new Deno.Command(Deno.execPath(), {
  args: [...cli, "run", "--config", config],
  env: { LOG_DIR: dir, SLUICE_LISTEN: `127.0.0.1:${port}`, NO_COLOR: "1" },
  stdout: "null",
  stderr: "piped",
}).spawn();

try {
  // Wait (bounded) until the agent has read every line.
  type Analysis = { records_total: number; [key: string]: unknown };
  let analysis: Analysis | undefined;
  const deadline = Date.now() + 30_000;
  while (analysis?.records_total !== perService * 3) {
    if (Date.now() > deadline) throw new Error(`Not every record arrived in 30 s: ${analysis}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    analysis = await fetch(`http://127.0.0.1:${port}/stats/analysis`)
      .then((response) => response.ok ? response.json() : undefined)
      .catch(() => undefined);
  }
  const { total_services, active_traces, service_distribution, top_errors } = analysis;
  console.log("Analysis results:");
  console.log(
    JSON.stringify({ total_services, active_traces, service_distribution, top_errors }, null, 2),
  );
} finally {
  agent.kill("SIGTERM");
  const { code } = await agent.status;
  const stderr = await new Response(agent.stderr).text();
  if (code !== 0) console.error(`sluice run exited with ${code}:\n${stderr}`);
}

// The database, read back with the CLI: the first two errors of service2.
const query = await new Deno.Command(Deno.execPath(), {
  args: [
    ...cli,
    "query",
    "--sqlite",
    `${dir}/logs.db`,
    "--level",
    "error",
    "--service",
    "service2",
    "--limit",
    "2",
  ],
  env: { NO_COLOR: "1" },
}).output();
console.log(
  `sluice query --level error --service service2 --limit 2:\n${
    new TextDecoder().decode(query.stdout).trimEnd()
  }`,
);
await Deno.remove(dir, { recursive: true });

// Output (1000 records per service):
// Analysis results:
// {
//   "total_services": 3,
//   "active_traces": 750,
//   "service_distribution": {
//     "service1": { "INFO": 900, "WARN": 90, "ERROR": 10 },
//     …
//   },
//   "top_errors": [
//     { "message": "Database connection timeout", "count": 15, "error": 0 },
//     { "message": "Authentication failed", "count": 15, "error": 0 }
//   ]
// }
// sluice query --level error --service service2 --limit 2:
// 2023-11-18T12:59:06.577Z ERROR root - Authentication failed service=service2 trace_id=trace-1-224 file=…/service2.log
// 2023-11-18T12:59:06.677Z ERROR root - Database connection timeout service=service2 trace_id=trace-1-249 file=…/service2.log

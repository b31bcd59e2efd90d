/**
 * Scale-out throughput (`deno task bench:scale`): NDJSON over TCP into an agent
 * (`sluice run`: `tcp` source → `nats` sink), through a JetStream stream, out of an
 * aggregator (`sluice run`: `nats` source → `file` sink, JSON). Every process is real: one
 * nats-server (or a three-node cluster on loopback with replicas 3), the agent, the
 * aggregator. A run sends RECORDS records and ends when the aggregator's sink has written all
 * of them (its `sluice_records_out_total`); records/s = RECORDS / (end - first byte sent).
 * Runs alternate between the cases; the medians are printed as a Markdown table.
 *
 * `deno run -A bench/scale_out.ts [runs] [records] [cases]` — cases a comma list of nats1,
 * nats3, sqlite, postgres (default nats1,nats3).
 *
 * @module
 */

import { startNats, startNatsCluster } from "../tests/helpers/nats_server.ts";
import type { NatsNode } from "../tests/helpers/nats_server.ts";
import { type RunningSluice, startSluice } from "../tests/helpers/sluice_process.ts";
import { metricValue } from "../tests/helpers/metric_value.ts";
import { type PostgresServer, startPostgres } from "../tests/helpers/postgres_server.ts";

/**
 * With SLUICE_BENCH_CPU_PROF=DIR set, the agent and the aggregator run under V8's sampling
 * profiler, writing DIR/agent/*.cpuprofile and DIR/aggregator/*.cpuprofile (read them with
 * `deno run -A bench/profile.ts --profile FILE`).
 */
function profiled(name: string): { flags?: string[] } {
  const dir = Deno.env.get("SLUICE_BENCH_CPU_PROF");
  return dir ? { flags: ["-A", "--cpu-prof", `--cpu-prof-dir=${dir}/${name}`] } : {};
}

const RUNS = Number(Deno.args[0] ?? 3);
const RECORDS = Number(Deno.args[1] ?? 500_000);
const CASES = (Deno.args[2] ?? "nats1,nats3").split(",");
const CONNECTIONS = 4;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function ndjson(count: number, offset: number): Uint8Array {
  let text = "";
  for (let i = 0; i < count; i++) {
    text +=
      `{"time":"2024-06-01T12:00:00.000Z","level":"info","logger":"bench.tcp","message":"request handled","seq":${
        offset + i
      },"path":"/api/orders","status":200,"duration_ms":12.5}\n`;
  }
  return new TextEncoder().encode(text);
}

async function sendAll(port: number, bytes: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
  conn.close();
}

async function outTotal(sluice: RunningSluice, sink: string): Promise<number> {
  const text = await (await fetch(`${sluice.url}/metrics`)).text();
  return metricValue(text, "sluice_records_out_total", { component: sink });
}

/** A database case: the agent alone, `tcp` source → `sqlite` or `postgres` sink. */
async function runStore(kind: string): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_store_bench_" });
  let pg: PostgresServer | undefined;
  let agent: RunningSluice | undefined;
  try {
    const port = freePort();
    let sink = `{ type: sqlite, path: ${dir}/logs.db }`;
    if (kind === "postgres") {
      pg = await startPostgres({ durable: true });
      sink = `{ type: postgres, url: "${pg.url}" }`;
    }
    await Deno.writeTextFile(
      `${dir}/agent.yaml`,
      `server: { listen: 127.0.0.1:0 }
sources:
  lines: { type: tcp, address: 127.0.0.1:${port}, parser: json }
sinks:
  db: ${sink.slice(0, -2)}, buffer: { max_records: 50000 } }
`,
    );
    agent = await startSluice(`${dir}/agent.yaml`);
    const per = RECORDS / CONNECTIONS;
    const payloads = Array.from({ length: CONNECTIONS }, (_, i) => ndjson(per, i * per));
    const t0 = performance.now();
    await Promise.all(payloads.map((p) => sendAll(port, p)));
    while (await outTotal(agent, "db") < RECORDS) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return RECORDS / ((performance.now() - t0) / 1000);
  } finally {
    await agent?.stop().catch(() => {});
    await pg?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** One run: fresh servers, agent and aggregator; returns records/s. */
async function run(kind: string): Promise<number> {
  if (kind === "sqlite" || kind === "postgres") return await runStore(kind);
  const dir = await Deno.makeTempDir({ prefix: "sluice_scale_bench_" });
  let nodes: NatsNode[] = [];
  const procs: RunningSluice[] = [];
  try {
    nodes = kind === "nats3" ? await startNatsCluster(3) : [await startNats()];
    const servers = JSON.stringify(nodes.map((n) => n.url));
    const port = freePort();
    const replicas = kind === "nats3" ? 3 : 1;
    await Deno.writeTextFile(
      `${dir}/agent.yaml`,
      `server: { listen: 127.0.0.1:0 }
sources:
  lines: { type: tcp, address: 127.0.0.1:${port}, parser: json }
sinks:
  bus:
    type: nats
    servers: ${servers}
    stream: LOGS
    subject: logs.bench
    replicas: ${replicas}
    buffer: { max_records: 50000 }
`,
    );
    await Deno.writeTextFile(
      `${dir}/aggregator.yaml`,
      `server: { listen: 127.0.0.1:0 }
sources:
  bus: { type: nats, servers: ${servers}, stream: LOGS, subjects: [logs.bench], replicas: ${replicas}, consumer: bench }
sinks:
  out: { type: file, path: ${dir}/out.log, format: json, buffer: { max_records: 50000 } }
`,
    );
    const agent = await startSluice(`${dir}/agent.yaml`, profiled("agent"));
    procs.push(agent);
    const aggregator = await startSluice(`${dir}/aggregator.yaml`, profiled("aggregator"));
    procs.push(aggregator);
    const per = RECORDS / CONNECTIONS;
    const payloads = Array.from({ length: CONNECTIONS }, (_, i) => ndjson(per, i * per));
    const t0 = performance.now();
    await Promise.all(payloads.map((p) => sendAll(port, p)));
    while (await outTotal(aggregator, "out") < RECORDS) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const lines = (await Deno.readTextFile(`${dir}/out.log`)).split("\n").length - 1;
    if (lines !== RECORDS) throw new Error(`${kind}: ${lines} lines written, ${RECORDS} sent`);
    return RECORDS / seconds;
  } finally {
    for (const p of procs) await p.stop().catch(() => {});
    for (const n of nodes) await n.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const results = new Map<string, number[]>(CASES.map((c) => [c, []]));
for (let r = 0; r < RUNS; r++) {
  for (const kind of CASES) {
    const rate = await run(kind);
    results.get(kind)!.push(rate);
    console.error(`run ${r + 1} ${kind}: ${Math.round(rate).toLocaleString("en-US")} records/s`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(
  `| Case (${
    RECORDS.toLocaleString("en-US")
  } records, ${CONNECTIONS} TCP connections) | median records/s | runs |`,
);
console.log("| --- | ---: | --- |");
const labels: Record<string, string> = {
  nats1: "agent → one-node stream → aggregator → file",
  nats3: "agent → three-node stream (replicas 3) → aggregator → file",
  sqlite: "agent → sqlite sink (WAL, synchronous normal)",
  postgres: "agent → postgres sink (PostgreSQL 15, fsync on)",
};
for (const [kind, rates] of results) {
  console.log(
    `| ${labels[kind] ?? kind} | ${fmt(median(rates))} | ${rates.map(fmt).join(" / ")} |`,
  );
}

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { metricValue } from "../../helpers/metric_value.ts";
import { natsServerPeer, startNatsCluster } from "../../helpers/nats_server.ts";
import { skipWithout } from "../../helpers/peers.ts";
import { type RunningSluice, startSluice } from "../../helpers/sluice_process.ts";

/** Posts batches of numbered records to an agent until stopped; keeps the ids answered 200. */
function sender(
  url: string,
  agent: string,
  batches: number,
  onBatch: (n: number) => Promise<void>,
) {
  const acked: string[] = [];
  let refused = 0;
  const done = (async () => {
    for (let b = 0; b < batches; b++) {
      const ids = Array.from({ length: 100 }, (_, i) => `${agent}-${b * 100 + i}`);
      const body = ids.map((id) => JSON.stringify({ message: `record ${id}`, rid: id })).join("\n");
      const response = await fetch(`${url}/ingest`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body,
      });
      await response.body?.cancel();
      if (response.status === 200) acked.push(...ids);
      else refused++;
      await onBatch(b);
    }
  })();
  return { acked, done, refused: () => refused };
}

/** Every `rid` in the aggregators' JSON files, with how often it was written. */
async function arrived(files: string[]): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (const file of files) {
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const line of text.split("\n")) {
      if (line === "") continue;
      let record: { rid?: string; fields?: { rid?: string } };
      try {
        record = JSON.parse(line);
      } catch {
        continue; // a line torn by kill -9 (its message was not acknowledged)
      }
      const rid = record.rid ?? record.fields?.rid;
      if (rid !== undefined) seen.set(rid, (seen.get(rid) ?? 0) + 1);
    }
  }
  return seen;
}

async function metrics(sluice: RunningSluice): Promise<string> {
  return await (await fetch(`${sluice.url}/metrics`)).text();
}

Deno.test({
  name:
    "nats cluster: two agents publish to a 3-replica stream, two aggregators share it; kill -9 of one aggregator and one NATS node loses no acknowledged record",
  ignore: skipWithout(natsServerPeer()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const nodes = await startNatsCluster(3);
    const dir = await Deno.makeTempDir({ prefix: "sluice-nats-cluster-" });
    const servers = JSON.stringify(nodes.map((n) => n.url));
    const running: RunningSluice[] = [];
    try {
      const start = async (name: string, yaml: string) => {
        await Deno.writeTextFile(`${dir}/${name}.yaml`, yaml);
        const sluice = await startSluice(`${dir}/${name}.yaml`);
        running.push(sluice);
        return sluice;
      };
      const agent = (n: number) =>
        start(
          `agent${n}`,
          `
server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http, acknowledgements: true, ack_timeout: 60s }
sinks:
  bus:
    type: nats
    servers: ${servers}
    stream: LOGS
    subject: logs.agent${n}
    subjects: ["logs.>"]
    replicas: 3
    ack_timeout: 2s
`,
        );
      const aggregator = (n: number) =>
        start(
          `aggregator${n}`,
          `
server: { listen: 127.0.0.1:0 }
sources:
  bus: { type: nats, servers: ${servers}, stream: LOGS, consumer: aggregators, ack_wait: 4s, ack_timeout: 3s }
sinks:
  out: { type: file, path: ${dir}/aggregator${n}.log, format: json }
`,
        );
      const agents = [await agent(1), await agent(2)];
      const aggregators = [await aggregator(1), await aggregator(2)];

      // Find the stream's leader: the node whose loss forces an election.
      const nc = await connect({ servers: nodes.map((n) => n.url) });
      const leader = (await (await jetstreamManager(nc)).streams.info("LOGS")).cluster?.leader;
      await nc.close();
      const victim = nodes.find((_, i) => `n${i + 1}` === leader) ?? nodes[0]!;

      const BATCHES = 60;
      const senders = agents.map((a, i) =>
        sender(a.url, `a${i + 1}`, BATCHES, async (b) => {
          if (i !== 0) return;
          if (b === 15) aggregators[0]!.signal("SIGKILL");
          if (b === 35) await victim.kill("SIGKILL");
        })
      );
      await Promise.all(senders.map((s) => s.done));
      const acked = senders.flatMap((s) => s.acked);
      assert.ok(
        acked.length >= BATCHES * 100,
        `most batches acknowledged: ${acked.length} records, ${
          senders.map((s) => s.refused())
        } refused`,
      );

      const files = [1, 2].map((n) => `${dir}/aggregator${n}.log`);
      const deadline = Date.now() + 60_000;
      let seen = await arrived(files);
      let missing = acked.filter((id) => !seen.has(id));
      while (missing.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        seen = await arrived(files);
        missing = acked.filter((id) => !seen.has(id));
      }
      const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
      const redeliveries = metricValue(
        await metrics(aggregators[1]!),
        "sluice_nats_redeliveries_total",
      );
      console.log(
        `acknowledged ${acked.length}, arrived ${seen.size} distinct, ${duplicates} duplicates, ` +
          `${redeliveries} redeliveries counted by the surviving aggregator`,
      );
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged records lost`);
      assert.ok(seen.size >= acked.length);
    } finally {
      for (const sluice of running) await sluice.stop("SIGKILL").catch(() => {});
      for (const node of nodes) await node.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

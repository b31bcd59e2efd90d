import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import natsSink from "../../../plugins/sinks/nats/mod.ts";
import natsSource from "../../../plugins/sources/nats.ts";
import tcpSource from "../../../plugins/sources/tcp.ts";
import { definePlugin, s } from "../../../mod.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { counter, startPipeline, waitFor } from "../../helpers/net_pipeline.ts";
import { freePort, natsServerPeer, startNats } from "../../helpers/nats_server.ts";
import { skipWithout } from "../../helpers/peers.ts";

const ignore = skipWithout(natsServerPeer());

/** A sink that keeps what it gets, and fails every write while `gate.open` is false. */
const gate = { open: true, writes: 0 };
const received = new Map<string, LogRecord[]>();
const gatedSink = definePlugin({
  kind: "sink",
  type: "gated",
  description: "Keeps records; fails while the gate is closed (for tests).",
  options: s.object({}),
  create(_options, context) {
    const store: LogRecord[] = [];
    received.set(context.id, store);
    return {
      write(records) {
        gate.writes++;
        if (!gate.open) throw new Error("gate closed");
        store.push(...records);
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  },
});
const plugins = [tcpSource, natsSink, natsSource, gatedSink];

async function send(port: number, lines: string[]): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const data = new TextEncoder().encode(lines.join("\n") + "\n");
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
  conn.close();
}

function agent(port: number, url: string, maxRecords = 100) {
  return startPipeline({
    sources: { lines: { type: "tcp", address: `127.0.0.1:${port}` } },
    sinks: {
      bus: {
        type: "nats",
        servers: [url],
        stream: "LOGS",
        subject: "logs.app",
        batch: { max_records: maxRecords },
      },
    },
  }, plugins);
}

function aggregator(url: string, id: string, extra: Record<string, unknown> = {}) {
  return startPipeline({
    sources: {
      bus: { type: "nats", servers: [url], stream: "LOGS", consumer: "aggregators", ...extra },
    },
    sinks: { [id]: { type: "gated" } },
  }, plugins);
}

async function consumerState(url: string) {
  const nc = await connect({ servers: url });
  try {
    return await (await jetstreamManager(nc)).consumers.info("LOGS", "aggregators");
  } finally {
    await nc.close();
  }
}

Deno.test({
  name: "nats source: two aggregators on one durable consumer share the messages, each record once",
  ignore,
  async fn() {
    received.clear();
    gate.open = true;
    const server = await startNats();
    const port = freePort();
    const a = await agent(port, server.url);
    const one = await aggregator(server.url, "one");
    const two = await aggregator(server.url, "two");
    try {
      const lines = Array.from(
        { length: 5000 },
        (_, i) => JSON.stringify({ level: "info", message: `m${i}`, n: i }),
      );
      await send(port, lines);
      const total = () => (received.get("one")?.length ?? 0) + (received.get("two")?.length ?? 0);
      await waitFor(() => total() >= 5000, () => `${total()} of 5000 records`);
      const all = [...received.get("one")!, ...received.get("two")!].map((r) => r.fields.n);
      assert.equal(new Set(all).size, 5000);
      assert.equal(all.length, 5000, "no duplicates without failures");
      assert.ok(received.get("one")!.length > 0 && received.get("two")!.length > 0, "both worked");
      const first = received.get("one")![0]!;
      assert.equal(first.level, 20); // info
      assert.match(first.message, /^m\d+$/);
      await waitFor(
        async () => (await consumerState(server.url)).num_ack_pending === 0,
        () => "acks",
      );
      assert.equal((await consumerState(server.url)).num_pending, 0);
      assert.equal(
        counter(one, "nats_redeliveries_total") + counter(two, "nats_redeliveries_total"),
        0,
      );
    } finally {
      await a.shutdown();
      await one.shutdown();
      await two.shutdown();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "nats source: a message is acknowledged only once its sink holds the records; a failing sink makes it pull less, and what it handed back is redelivered",
  ignore,
  async fn() {
    received.clear();
    gate.open = false;
    gate.writes = 0;
    const server = await startNats();
    const port = freePort();
    const a = await agent(port, server.url, 1);
    const agg = await aggregator(server.url, "db", {
      max_in_flight: 4,
      ack_timeout: "300ms",
      ack_wait: "2s",
    });
    try {
      await send(
        port,
        Array.from({ length: 40 }, (_, i) => JSON.stringify({ message: `m${i}`, n: i })),
      );
      await waitFor(async () => (await consumerState(server.url)).num_pending > 0, () => "stream");
      await waitFor(
        () => counter(agg, "records_not_acknowledged_total") > 0,
        () => "a message handed back",
      );
      const state = await consumerState(server.url);
      // At most max_in_flight being routed, plus as many handed back and waiting out their
      // redelivery delay: the rest stays in the stream, not in the aggregator's memory.
      assert.ok(state.num_ack_pending <= 8, `${state.num_ack_pending} pending acks`);
      assert.ok(state.num_pending >= 32, `${state.num_pending} not yet pulled`);
      assert.equal(received.get("db")!.length, 0);

      gate.open = true;
      const seen = () => new Set(received.get("db")!.map((r) => r.fields.n)).size;
      await waitFor(() => seen() === 40, () => `${seen()} of 40`);
      await waitFor(
        async () => (await consumerState(server.url)).num_ack_pending === 0,
        () => "acks",
      );
      assert.ok(counter(agg, "nats_redeliveries_total") > 0, "redeliveries counted");
    } finally {
      gate.open = true;
      await a.shutdown();
      await agg.shutdown();
      await server.stop();
    }
  },
});

import assert from "node:assert/strict";
import tcpSink from "../../../plugins/sinks/tcp/mod.ts";
import tcpSource from "../../../plugins/sources/tcp.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";
import { getLogger } from "../../../src/logger/logger.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { s } from "../../../src/schema/schema.ts";
import { counter, freePort, startPipeline, waitFor } from "../../helpers/net_pipeline.ts";
import { findPeer, skipWithout } from "../../helpers/peers.ts";

const encoder = new TextEncoder();

async function send(port: number, bytes: Uint8Array | string, close = true): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
  if (close) conn.close();
  return conn;
}

function octet(line: string): string {
  return `${encoder.encode(line).length} ${line}`;
}

Deno.test("tcp source reads JSON records from 20 concurrent connections, newline and octet-counted, each in order", async () => {
  const port = freePort();
  const store = "tcp_source_many";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: { lines: { type: "tcp", address: `127.0.0.1:${port}` } },
    sinks: { mem: { type: "memory", name: store } },
  }, [tcpSource]);
  try {
    const perConnection = 1000;
    await Promise.all(Array.from({ length: 20 }, (_, c) => {
      let text = "";
      for (let i = 0; i < perConnection; i++) {
        const line = JSON.stringify({
          time: 1_700_000_000_000 + i,
          level: "warn",
          logger: `client.${c}`,
          message: `m ${i} ✓\nsecond line`,
          conn: c,
          seq: i,
        });
        text += c % 2 === 0 ? line + "\n" : octet(line);
      }
      return send(port, text);
    }));
    await waitFor(
      () => memoryRecords(store).length === 20 * perConnection,
      () => `${memoryRecords(store).length} records`,
    );
    const byConnection = new Map<number, LogRecord[]>();
    for (const r of memoryRecords(store)) {
      const c = r.fields.conn as number;
      if (!byConnection.has(c)) byConnection.set(c, []);
      byConnection.get(c)!.push(r);
    }
    for (let c = 0; c < 20; c++) {
      const records = byConnection.get(c)!;
      assert.deepEqual(
        records.map((r) => r.fields.seq),
        Array.from({ length: perConnection }, (_, i) => i),
      );
      assert.equal(records[5]!.level, 30);
      assert.equal(records[5]!.logger, `client.${c}`);
      assert.equal(records[5]!.time, 1_700_000_000_005);
      assert.equal(records[5]!.message, "m 5 ✓\nsecond line");
    }
    assert.equal(counter(pipeline, "connections_total", { component: "lines" }), 20);
    assert.equal(counter(pipeline, "records_rejected_total"), 0);
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

/** A sink that takes 20 ms per batch: the pipeline fills up and sources must wait. */
const slowSink = definePlugin({
  kind: "sink",
  type: "test_slow",
  description: "Slow sink for back-pressure tests.",
  options: s.object({ name: s.string() }),
  create(options) {
    const store = memoryRecords(options.name);
    return {
      async write(records: readonly LogRecord[]) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        store.push(...records);
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  },
});

Deno.test("tcp source applies back-pressure: with a slow sink and a 500-record queue, 20,000 lines all arrive and the queue stays bounded", async () => {
  const port = freePort();
  const store = "tcp_source_slow";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: { lines: { type: "tcp", address: `127.0.0.1:${port}`, parser: "text" } },
    sinks: { slow: { type: "test_slow", name: store, buffer: { max_records: 500 } } },
  }, [tcpSource, slowSink]);
  try {
    const n = 20_000;
    let deepest = 0;
    const sampler = setInterval(() => {
      deepest = Math.max(deepest, pipeline.sinks.get("slow")!.depth);
    }, 2);
    let text = "";
    for (let i = 0; i < n; i++) text += `line ${i}\n`;
    await send(port, text);
    await waitFor(() => memoryRecords(store).length === n, () => `${memoryRecords(store).length}`);
    clearInterval(sampler);
    assert.deepEqual(
      memoryRecords(store).map((r) => r.message),
      Array.from({ length: n }, (_, i) => `line ${i}`),
    );
    // The source stops reading once the queue is full: at most one read (64 KiB, < 8,000 of
    // these lines) beyond the bound is ever queued.
    assert.ok(deepest <= 500 + 8000, `queue depth peaked at ${deepest}`);
    assert.equal(
      memoryRecords(store)[0]!.logger,
      "lines",
      "text records take the source id as logger",
    );
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("tcp source evicts the longest-idle connection at max_connections and closes idle ones", async () => {
  const port = freePort();
  const store = "tcp_source_limits";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: {
      lines: {
        type: "tcp",
        address: `127.0.0.1:${port}`,
        parser: "text",
        max_connections: 3,
        idle_timeout: "300ms",
      },
    },
    sinks: { mem: { type: "memory", name: store } },
  }, [tcpSource]);
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 3; i++) conns.push(await send(port, `held ${i}\n`, false));
    await waitFor(() => memoryRecords(store).length === 3, () => "three held connections");
    // A fourth sender gets in: the longest-idle connection (the first) makes way for it.
    const fourth = await send(port, "fourth\n", false);
    conns.push(fourth);
    await waitFor(() => memoryRecords(store).some((r) => r.message === "fourth"), () => "fourth");
    assert.equal(counter(pipeline, "connections_closed_total", { reason: "evicted" }), 1);
    assert.equal(
      counter(pipeline, "records_rejected_total", { reason: "too_many_connections" }),
      0,
    );
    // The evicted connection is closed by the source.
    assert.equal(await conns[0]!.read(new Uint8Array(16)).catch(() => null), null);
    // Idle connections are closed after idle_timeout, which makes room again.
    await waitFor(
      () => counter(pipeline, "connections_closed_total", { reason: "idle_timeout" }) >= 3,
      () => "idle connections closed",
    );
    await send(port, "after\n");
    await waitFor(() => memoryRecords(store).some((r) => r.message === "after"), () => "after");
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Closed by the source.
      }
    }
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

const openssl = () =>
  findPeer("openssl", ["version"], "install it with: apt-get install -y openssl");

Deno.test({
  name:
    "tcp sink and tcp source talk TLS with a CA the test creates; a wrong CA is refused and counted",
  ignore: skipWithout(openssl()),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const run = async (...args: string[]) => {
        const out = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
      };
      await run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
      );
      await run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
      );
      await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
      await run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        "server.pem",
        "-extfile",
        "ext.cnf",
      );
      await run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Other CA",
        "-keyout",
        "other.key",
        "-out",
        "other.pem",
      );
      const port = freePort();
      const store = "tcp_tls";
      memoryRecords(store).length = 0;
      const pipeline = await startPipeline({
        sources: {
          app: { type: "logger", logger: "tls" },
          secure: {
            type: "tcp",
            address: `127.0.0.1:${port}`,
            tls: { cert: `${dir}/server.pem`, key: `${dir}/server.key` },
          },
        },
        sinks: {
          out: {
            type: "tcp",
            address: `127.0.0.1:${port}`,
            inputs: ["app"],
            tls: { ca: `${dir}/ca.pem` },
          },
          wrong: {
            type: "tcp",
            address: `127.0.0.1:${port}`,
            inputs: ["app"],
            tls: { ca: `${dir}/other.pem` },
            reconnect: { initial: "50ms", max: "100ms" },
          },
          mem: { type: "memory", name: store, inputs: ["secure"] },
        },
      }, [tcpSink, tcpSource]);
      try {
        const log = getLogger("tls");
        for (let i = 0; i < 100; i++) log.info("over tls", { i });
        await waitFor(
          () => memoryRecords(store).length === 100,
          () => `${memoryRecords(store).length}`,
        );
        assert.deepEqual(
          memoryRecords(store).map((r) => r.fields.i),
          Array.from({ length: 100 }, (_, i) => i),
        );
        assert.equal(memoryRecords(store)[0]!.message, "over tls");
        await waitFor(
          () => counter(pipeline, "component_errors_total", { component: "wrong" }) > 0,
          () => "the sink with the wrong CA to fail",
        );
        assert.equal(counter(pipeline, "records_out_total", { component: "wrong" }), 0);
        assert.equal(counter(pipeline, "connects_total", { component: "wrong" }), 0);
      } finally {
        await pipeline.shutdown(500);
        memoryRecords(store).length = 0;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";
import tcpSink from "../../../../plugins/sinks/tcp/mod.ts";
import { getLogger } from "../../../../src/logger/logger.ts";
import { counter, freePort, startPipeline, waitFor } from "../../../helpers/net_pipeline.ts";

/** A newline-JSON TCP receiver that can go down (cleanly) and come back on the same port. */
class Peer {
  readonly ids: number[] = [];
  #listener: Deno.Listener | undefined;
  #conns = new Set<Deno.Conn>();
  #loops = new Set<Promise<void>>();
  #accepting: Promise<void> | undefined;

  constructor(readonly port: number) {}

  up(): void {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    const listener = this.#listener;
    this.#accepting = (async () => {
      for (;;) {
        let conn: Deno.Conn;
        try {
          conn = await listener.accept();
        } catch {
          return;
        }
        this.#conns.add(conn);
        const loop = this.#read(conn).finally(() => this.#loops.delete(loop));
        this.#loops.add(loop);
      }
    })();
  }

  /** Stops listening and half-closes every connection, reading what the sender still sends. */
  async down(): Promise<void> {
    this.#listener?.close();
    this.#listener = undefined;
    await this.#accepting;
    for (const conn of this.#conns) await conn.closeWrite().catch(() => {});
    await Promise.all([...this.#loops]);
  }

  async #read(conn: Deno.Conn): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(65_536);
    let rest = "";
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        rest += decoder.decode(buffer.subarray(0, n), { stream: true });
        let nl: number;
        while ((nl = rest.indexOf("\n")) !== -1) {
          this.ids.push(JSON.parse(rest.slice(0, nl)).id);
          rest = rest.slice(nl + 1);
        }
      }
    } catch {
      // Reset by the sender: what arrived is counted.
    } finally {
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
}

Deno.test("tcp sink outage: the peer is down for 10 s while 100,000 records are logged; none is lost (buffer plus fallback) and no log call waits", async () => {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const peer = new Peer(port);
  peer.up();
  const fallbackPath = `${dir}/undelivered.log`;
  const pipeline = await startPipeline({
    sources: {
      app: { type: "logger", logger: "outage" },
      nothing: { type: "logger", logger: "no.records.come.here" },
    },
    sinks: {
      central: {
        type: "tcp",
        address: `127.0.0.1:${port}`,
        inputs: ["app"],
        buffer: { max_records: 20_000 },
        fallback: "local_file",
        fallback_after: "2s",
        reconnect: { initial: "100ms", max: "1s" },
      },
      local_file: { type: "file", path: fallbackPath, inputs: ["nothing"] },
    },
  }, [tcpSink]);
  try {
    const log = getLogger("outage");
    for (let i = 0; i < 1000; i++) log.info("before", { id: i });
    await waitFor(() => peer.ids.length === 1000, () => `${peer.ids.length} before the outage`);

    const downAt = Date.now();
    await peer.down();
    let slowestChunkMs = 0;
    let next = 1000;
    for (let chunk = 0; chunk < 100; chunk++) {
      const started = performance.now();
      for (let i = 0; i < 1000; i++) log.info("during", { id: next++ });
      slowestChunkMs = Math.max(slowestChunkMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 90));
    }
    // Every log call returned while the peer was still down: none waited for it.
    assert.equal(next, 101_000);
    const loggedWithin = Date.now() - downAt;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - loggedWithin)));
    peer.up();
    // The sink reconnects on its own (back-off with jitter, at most 1 s here) ...
    await waitFor(
      () => counter(pipeline, "connects_total", { component: "central" }) >= 2,
      () => "the sink to reconnect",
    );
    // ... and records logged from then on reach the peer again.
    for (let i = 0; i < 1000; i++) log.info("after", { id: next++ });
    assert.ok(await pipeline.flush(30_000), "everything delivered or handed to the fallback");
    // Closing the sink ends its connection; the peer then reads what is still in flight.
    await pipeline.shutdown();
    await peer.down();

    const fallbackIds = (await Deno.readTextFile(fallbackPath)).trim().split("\n").filter((l) => l)
      .map((l) => JSON.parse(l).id as number);
    const all = [...peer.ids, ...fallbackIds];
    const unique = new Set(all);
    assert.equal(unique.size, 102_000, `peer ${peer.ids.length} + fallback ${fallbackIds.length}`);
    assert.equal(all.length, 102_000, "no record twice");
    assert.ok(fallbackIds.length > 0, "the fallback took over during the outage");
    assert.equal(peer.ids.filter((id) => id >= 101_000).length, 1000, "delivery resumed");
    assert.equal(counter(pipeline, "records_dropped_total"), 0);
    console.log(
      `outage: peer got ${peer.ids.length}, fallback ${fallbackIds.length}; slowest 1,000 log calls took ${
        slowestChunkMs.toFixed(1)
      } ms; logging 100,000 took ${loggedWithin} ms of the 10 s outage`,
    );
  } finally {
    await pipeline.shutdown();
    await peer.down();
    await Deno.remove(dir, { recursive: true });
  }
});

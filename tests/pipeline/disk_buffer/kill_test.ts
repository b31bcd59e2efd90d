import assert from "node:assert/strict";
import { startSluice } from "../../helpers/sluice_process.ts";

/** A free port now, refused until a peer listens on it. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Sends batches of numbered records until stopped; returns the ids answered 200. */
function sender(url: string, first: number) {
  const acked: number[] = [];
  let next = first;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const ids = Array.from({ length: 50 }, () => next++);
      const body = ids.map((id) => JSON.stringify({ message: `record ${id}`, id })).join("\n");
      try {
        const response = await fetch(`${url}/ingest`, {
          method: "POST",
          headers: { "content-type": "application/x-ndjson" },
          body,
        });
        await response.body?.cancel();
        if (response.status === 200) acked.push(...ids);
      } catch {
        return; // the agent was killed mid-request: that batch is not acknowledged
      }
    }
  })();
  return {
    acked,
    get next() {
      return next;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** Collects the ids a TCP peer receives (newline-delimited JSON). */
function peer(port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const ids = new Set<number>();
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const decoder = new TextDecoderStream();
        let rest = "";
        try {
          for await (const text of conn.readable.pipeThrough(decoder)) {
            const lines = (rest + text).split("\n");
            rest = lines.pop()!;
            for (const line of lines) ids.add(JSON.parse(line).id);
          }
        } catch {
          // the agent was stopped
        }
      })();
    }
  })().catch(() => {});
  return {
    ids,
    close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

Deno.test({
  name:
    "kill -9: every record HTTP ingest acknowledged reaches a TCP peer that was down, across ten kills",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice-kill-" });
    try {
      const port = freePort();
      const config = `${dir}/sluice.yaml`;
      await Deno.writeTextFile(
        config,
        [
          "server: { listen: 127.0.0.1:0, rate_limit: { requests_per_second: 0 } }",
          `data_dir: ${dir}/data`,
          "sources:",
          "  ingest: { type: http, path: /ingest, acknowledgements: true }",
          "sinks:",
          "  peer:",
          "    type: tcp",
          `    address: 127.0.0.1:${port}`,
          "    reconnect: { initial: 50ms, max: 200ms }",
          "    buffer: { type: disk, max_bytes: 64MiB }",
        ].join("\n") + "\n",
      );
      const acked: number[] = [];
      let next = 0;
      for (let kill = 0; kill < 10; kill++) {
        const sluice = await startSluice(config);
        const send = sender(sluice.url, next);
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250));
        await sluice.stop("SIGKILL");
        await send.stop();
        acked.push(...send.acked);
        next = send.next;
      }
      assert.ok(acked.length > 0, "some batches were acknowledged before the kills");
      if (Deno.env.get("DEBUG_KILL")) console.log(`acknowledged ${acked.length} of ${next}`);
      const received = peer(port);
      const sluice = await startSluice(config);
      try {
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && acked.some((id) => !received.ids.has(id))) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const missing = acked.filter((id) => !received.ids.has(id));
        if (Deno.env.get("DEBUG_KILL")) console.log(`peer received ${received.ids.size}`);
        assert.deepEqual(
          missing.slice(0, 20),
          [],
          `${missing.length} of ${acked.length} acknowledged records lost`,
        );
      } finally {
        await sluice.stop("SIGKILL");
        received.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

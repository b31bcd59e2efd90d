/**
 * A sink's peer answering with a huge error page through a real `sluice run`: the http sink
 * reads a bounded prefix to quote and cancels the rest, so a 64 MiB 500 page costs no memory.
 */

import assert from "node:assert/strict";
import { withSluice } from "../../../helpers/sluice_process.ts";

const PAGE_BYTES = 64 * 1024 * 1024;

async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Answers every request 500 with a 64 MiB page, streamed; counts requests and bytes sent. */
function errorPeer() {
  const state = { requests: 0, sent: 0 };
  const chunk = new TextEncoder().encode("<p>Internal error</p>".padEnd(64 * 1024, " "));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.body?.cancel();
    state.requests++;
    let left = PAGE_BYTES;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left <= 0) return controller.close();
        left -= chunk.length;
        state.sent += chunk.length;
        controller.enqueue(chunk);
      },
    }, { highWaterMark: 0 });
    return new Response(body, { status: 500, headers: { "content-type": "text/html" } });
  });
  return { server, state, url: `http://127.0.0.1:${server.addr.port}/logs` };
}

Deno.test("http sink: a peer's 64 MiB 500 page is quoted from a 4 KiB prefix and costs no memory", async () => {
  const peer = errorPeer();
  try {
    const yaml = `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http }
sinks:
  out:
    type: http
    inputs: [ingest]
    url: ${peer.url}
    batch: { max_wait: 10ms }
    retry: { initial: 10ms, max: 20ms, max_elapsed: 1h }
`;
    const { stderr } = await withSluice(yaml, async (sluice) => {
      const warm = await fetch(`${sluice.url}/ingest`, { method: "POST", body: '{"msg":"a"}\n' });
      await warm.body?.cancel();
      while (peer.state.requests < 1) await new Promise((r) => setTimeout(r, 20));
      const before = await peakRss(sluice.pid);
      const end = Date.now() + 20_000;
      while (peer.state.requests < 6 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const grown = (await peakRss(sluice.pid)) - before;
      console.log(
        `${peer.state.requests} requests, peer wrote ${
          (peer.state.sent / 2 ** 20).toFixed(1)
        } MiB, sluice peak RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB`,
      );
      assert.ok(peer.state.requests >= 6, `only ${peer.state.requests} requests`);
      assert.ok(grown < 20 * 2 ** 20, `peak RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
      // Only a prefix was read: the peer could not write most of its 6 x 64 MiB.
      assert.ok(peer.state.sent < 2 * PAGE_BYTES, `peer wrote ${peer.state.sent} bytes`);
      // The peer never accepts: the record still retried is dropped at the drain timeout.
    }, { code: 3 });
    assert.match(stderr, /HTTP 500: <p>Internal error<\/p>/);
  } finally {
    await peer.server.shutdown();
  }
});

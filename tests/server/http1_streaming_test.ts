import assert from "node:assert/strict";
import { Http1Server } from "../../src/server/http1_server.ts";

const LIMITS = {
  hostname: "127.0.0.1",
  port: 0,
  maxConnections: 8,
  headerTimeout: 5000,
  bodyTimeout: 5000,
  idleTimeout: 5000,
  maxHeaderBytes: 65536,
};

Deno.test("Http1Server: a streamed body arrives whole, the chunk after the first pause and empty chunks included", async () => {
  const encoder = new TextEncoder();
  const server = new Http1Server(LIMITS, () => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("a"));
        // An empty chunk before the pause once framed as the last chunk ("0\r\n\r\n").
        controller.enqueue(new Uint8Array(0));
        const timer = setInterval(() => {
          // The first chunk after the pause went to a read nobody awaited, and was lost.
          controller.enqueue(encoder.encode(["b", "c", "d"][n]!));
          if (++n === 3) {
            clearInterval(timer);
            controller.close();
          }
        }, 30);
      },
    });
    return new Response(body);
  });
  server.start();
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    assert.equal(await res.text(), "abcd");
    // The connection is still in step: a second request on it is answered.
    const again = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(await again.text(), "abcd");
  } finally {
    await server.shutdown();
  }
});

import assert from "node:assert/strict";
import { Http1Server } from "../../src/server/http1_server.ts";
import { TOO_LARGE } from "../../src/server/read_limited.ts";

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

/** A server whose handler reads the body with `readBody(limit)` and answers its size and sum. */
function server(limit: number): Http1Server {
  return new Http1Server(LIMITS, async (request, info) => {
    if (!info.readBody) return new Response(`none ${(await request.arrayBuffer()).byteLength}`);
    const body = await info.readBody(limit);
    if (body === TOO_LARGE) return new Response("too large", { status: 413 });
    let sum = 0;
    for (const b of body) sum = (sum * 31 + b) >>> 0;
    // The stream behind request.body is spent: it ends at once, empty.
    const rest = (await request.arrayBuffer()).byteLength;
    return new Response(`${body.length} ${sum} ${rest}`);
  });
}

function bytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

function sum(data: Uint8Array): number {
  let s = 0;
  for (const b of data) s = (s * 31 + b) >>> 0;
  return s;
}

/** A body sent as a stream in pieces with pauses between (chunked, as fetch sends a stream). */
function dripped(data: Uint8Array, pieces: number): ReadableStream<Uint8Array> {
  let i = 0;
  const size = Math.ceil(data.length / pieces);
  return new ReadableStream({
    async pull(controller) {
      if (i * size >= data.length) return controller.close();
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.enqueue(data.slice(i * size, ++i * size));
    },
  });
}

Deno.test("Http1Server readBody: bodies with a length, buffered or read into one array, come whole and in order on one connection", async () => {
  const s = server(8 << 20);
  s.start();
  try {
    const url = `http://127.0.0.1:${s.addr.port}/`;
    for (const size of [1, 1000, 65_000, 65_536, 200_000, 3 << 20]) {
      const data = bytes(size);
      const res = await fetch(url, { method: "POST", body: data });
      assert.equal(await res.text(), `${size} ${sum(data)} 0`, `${size} bytes`);
    }
    // GET has no body to read.
    assert.equal(await (await fetch(url)).text(), "none 0");
  } finally {
    await s.shutdown();
  }
});

Deno.test("Http1Server readBody: a chunked body arrives whole, and one over the limit is TOO_LARGE", async () => {
  const s = server(100_000);
  s.start();
  try {
    const url = `http://127.0.0.1:${s.addr.port}/`;
    const data = bytes(90_000);
    const ok = await fetch(url, { method: "POST", body: dripped(data, 7) });
    assert.equal(await ok.text(), `90000 ${sum(data)} 0`);
    const big = await fetch(url, { method: "POST", body: dripped(bytes(300_000), 5) });
    assert.equal(big.status, 413);
    await big.body?.cancel();
  } finally {
    await s.shutdown();
  }
});

Deno.test("Http1Server readBody: a large body whose client pauses still arrives whole", async () => {
  const s = server(8 << 20);
  s.start();
  try {
    const data = bytes(1 << 20);
    // A length and a stream: one raw connection writes the head, then the body in pauses.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.addr.port });
    try {
      const head = `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n` +
        "Connection: close\r\n\r\n";
      await conn.write(new TextEncoder().encode(head));
      for (let at = 0; at < data.length; at += 100_000) {
        let piece = data.subarray(at, at + 100_000);
        while (piece.length > 0) piece = piece.subarray(await conn.write(piece));
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      const answer = new TextDecoder().decode(await new Response(conn.readable).bytes());
      assert.ok(answer.endsWith(`${data.length} ${sum(data)} 0`), answer);
    } finally {
      try {
        conn.close();
      } catch {
        // Closed with its readable.
      }
    }
  } finally {
    await s.shutdown();
  }
});

/**
 * Attacks on the server's connections through a real `sluice run`: idle floods under a low
 * descriptor limit, connections beyond `max_connections` (idle ones, and requests while every
 * connection is busy), slow headers, a stalled body and idle keep-alive connections.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, withSluice } from "../helpers/sluice_process.ts";
import { metricValue } from "../helpers/metric_value.ts";

/** A `sluice run` with the given `server:` settings, an http source and a file sink. */
async function withServer(
  server: string,
  run: (url: string, dir: string) => Promise<void>,
  maxOpenFiles?: number,
): Promise<CliResult> {
  const yaml = (dir: string) =>
    `server: { listen: 127.0.0.1:0, ${server} }
sources:
  ingest: { type: http }
sinks:
  out: { type: file, inputs: [ingest], path: ${join(dir, "out.log")}, format: json }
`;
  return await withSluice(
    yaml,
    (sluice, dir) => run(sluice.url, dir),
    maxOpenFiles ? { maxOpenFiles } : {},
  );
}

const port = (url: string) => Number(new URL(url).port);

/** Opens up to `n` raw connections that send nothing (connects that stall are skipped). */
async function openIdle(url: string, n: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const connecting = Deno.connect({ hostname: "127.0.0.1", port: port(url) });
      const conn = await Promise.race([
        connecting,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
      ]);
      if (conn) conns.push(conn);
      else connecting.then((late) => late.close(), () => {});
    } catch {
      // The backlog is full: the server is not accepting right now.
    }
  }
  return conns;
}

/** Reads until the peer closes (or `ms` pass); the text read and whether it closed. */
async function readToEnd(conn: Deno.Conn, ms: number): Promise<{ text: string; closed: boolean }> {
  const buffer = new Uint8Array(4096);
  let text = "";
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return { text, closed: true };
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    return { text, closed: false };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
}

async function ingestOne(url: string, message: string): Promise<number> {
  const res = await fetch(`${url}/ingest`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: JSON.stringify({ message }) + "\n",
    signal: AbortSignal.timeout(5000),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("an idle flood beyond the descriptor limit does not stop the listener: it frees them and serves again", async () => {
  await withServer("max_connections: 100000, header_timeout: 500ms", async (url) => {
    // 400 connections against `ulimit -n 128`: accept fails with EMFILE until the header
    // timeout closes the idle ones; then the server must accept and serve again.
    const flood = await openIdle(url, 400);
    try {
      let status = 0;
      const deadline = Date.now() + 10_000;
      while (status !== 200 && Date.now() < deadline) {
        status = await ingestOne(url, "after the flood").catch(() => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(status, 200, "the server serves again after the flood");
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.ok(metricValue(text, "sluice_http_accept_errors_total") > 0, "EMFILE was counted");
      assert.ok(
        metricValue(text, "sluice_http_connections_closed_total", { reason: "header_timeout" }) >
          0,
      );
    } finally {
      for (const c of flood) {
        try {
          c.close();
        } catch {
          // Closed by the server.
        }
      }
    }
  }, 128);
});

Deno.test("connections beyond max_connections get 503 and are counted; slow headers, a stalled body and idle keep-alive are closed", async () => {
  await withServer(
    "max_connections: 20, header_timeout: 400ms, body_timeout: 400ms, idle_timeout: 400ms",
    async (url) => {
      const idle = await openIdle(url, 30);
      assert.equal(idle.length, 30);
      const results = await Promise.all(idle.map((c) => readToEnd(c, 3000)));
      const refused = results.filter((r) => r.text.startsWith("HTTP/1.1 503"));
      const timedOut = results.filter((r) => r.text.startsWith("HTTP/1.1 408"));
      assert.equal(refused.length, 10, "beyond 20 open connections, 503");
      assert.equal(timedOut.length, 20, "the 20 that never sent a header are closed with 408");
      assert.ok(results.every((r) => r.closed));

      // A body that stops arriving.
      const stalled = await Deno.connect({ hostname: "127.0.0.1", port: port(url) });
      await stalled.write(
        new TextEncoder().encode(
          'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100\r\n\r\n{"mess',
        ),
      );
      const started = Date.now();
      const body = await readToEnd(stalled, 3000);
      assert.ok(body.closed && Date.now() - started < 2500, "closed after body_timeout");

      // An idle keep-alive connection after a response.
      const keep = await Deno.connect({ hostname: "127.0.0.1", port: port(url) });
      await keep.write(new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
      const kept = await readToEnd(keep, 3000);
      assert.ok(kept.text.startsWith("HTTP/1.1 200") && kept.closed, "closed after idle_timeout");

      assert.equal(await ingestOne(url, "still served"), 200);
      const text = await (await fetch(`${url}/metrics`)).text();
      const closed = (reason: string) =>
        metricValue(text, "sluice_http_connections_closed_total", { reason });
      assert.equal(closed("too_many_connections"), 10);
      assert.equal(closed("header_timeout"), 20);
      assert.equal(closed("body_timeout"), 1);
      assert.equal(closed("idle_timeout"), 1);
    },
  );
});

Deno.test("300 clients dripping their headers do not stop ingest", async () => {
  await withServer("header_timeout: 10s", async (url) => {
    const slow = await openIdle(url, 300);
    try {
      const partial = new TextEncoder().encode("POST /ingest HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      await Promise.all(slow.map((c) => c.write(partial)));
      for (let i = 0; i < 5; i++) assert.equal(await ingestOne(url, `record ${i}`), 200);
    } finally {
      for (const c of slow) c.close();
    }
  });
});

Deno.test("while every connection is busy a further request gets 503 with Retry-After, counted and said once; ingest works once they finish", async () => {
  const HELD = 4;
  const result = await withServer(
    `max_connections: ${HELD}, header_timeout: 30s, body_timeout: 30s`,
    async (url, dir) => {
      // Four uploads in progress: their bodies are half sent, so no connection is idle and
      // none can make way (only an idle keep-alive connection is evicted).
      const line = '{"message":"held"}\n';
      const held = await Promise.all(Array.from({ length: HELD }, async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: port(url) });
        await conn.write(new TextEncoder().encode(
          `POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n` +
            `Content-Length: ${line.length}\r\nExpect: 100-continue\r\n\r\n`,
        ));
        // "100 Continue": the server took this connection and its handler reads the body.
        const buffer = new Uint8Array(64);
        const n = await conn.read(buffer);
        assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 100 /);
        await conn.write(new TextEncoder().encode(line.slice(0, 5)));
        return conn;
      }));
      try {
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${url}/ingest`, {
            method: "POST",
            headers: { "content-type": "application/x-ndjson" },
            body: '{"message":"refused"}\n',
            signal: AbortSignal.timeout(5000),
          });
          const text = await res.text();
          assert.equal(res.status, 503, text);
          assert.equal(res.headers.get("retry-after"), "1");
          assert.deepEqual(JSON.parse(text), { error: "Too many connections; retry later" });
        }
        // The held uploads finish: each is answered 200 and its record written.
        for (const conn of held) await conn.write(new TextEncoder().encode(line.slice(5)));
        const answers = await Promise.all(held.map((c) => readToEnd(c, 1000)));
        for (const answer of answers) assert.match(answer.text, /^HTTP\/1\.1 200 /);
      } finally {
        for (const conn of held) {
          try {
            conn.close();
          } catch {
            // Closed by readToEnd.
          }
        }
      }
      assert.equal(await ingestOne(url, "after"), 200);
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.equal(
        metricValue(text, "sluice_http_connections_closed_total", {
          reason: "too_many_connections",
        }),
        3,
      );
      const out = join(dir, "out.log");
      const deadline = Date.now() + 5000;
      while ((await Deno.readTextFile(out)).split("\n").length <= HELD + 1) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const written = (await Deno.readTextFile(out)).trim().split("\n");
      assert.deepEqual(written.map((l) => JSON.parse(l).message), [
        ...Array(HELD).fill("held"),
        "after",
      ]);
    },
  );
  assert.equal(result.stderr.match(/The server refused a connection/g)?.length, 1, result.stderr);
  assert.match(result.stderr, /4 already open \(server\.max_connections\)/);
});

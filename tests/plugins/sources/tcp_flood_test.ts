/**
 * One connection that floods a `tcp` source must not lock the HTTP server out: a socket that
 * always has data settles every read at once and the file sink writes synchronously, so the
 * read loop has to give the event loop its turns. Measured before the fix (Deno 2.9.6): a
 * /health request made during an 8 s flood was answered only when the flood ended.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { withSluice } from "../../helpers/sluice_process.ts";
import { freePort, waitFor } from "../../helpers/net_pipeline.ts";
import { metricValue } from "../../helpers/metric_value.ts";

const LINES = 9_000_000;

/** A separate process, so that the flood's writes do not share this test's event loop. */
function flooder(port: number): Deno.ChildProcess {
  const script = `
const conn = await Deno.connect({ hostname: "127.0.0.1", port: ${port} });
// One block built ahead and sent again and again, so that the socket always has data.
let text = "";
for (let j = 0; j < 3000; j++) text += '{"message":"x","n":1}\\n';
const bytes = new TextEncoder().encode(text);
for (let i = 0; i < ${LINES}; i += 3000) {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}
conn.close();
`;
  return new Deno.Command(Deno.execPath(), { args: ["eval", script], stdout: "null" }).spawn();
}

/** GET /health on a connection of its own; the response's first bytes. */
async function getHealth(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    const buffer = new Uint8Array(256);
    const n = await conn.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

Deno.test("tcp source flooded on one connection: /health answers during the flood, and every line arrives", async () => {
  const port = freePort();
  await withSluice(
    (dir) =>
      `server: { listen: 127.0.0.1:0 }
sources:
  net: { type: tcp, address: 127.0.0.1:${port}, parser: json }
sinks:
  # Two bytes a line ("x" and a newline), so that 9,000,000 lines take 18 MB of disk.
  out: { type: file, inputs: [net], path: ${
        join(dir, "out.log")
      }, format: { type: text, pattern: "%(message)s" } }
`,
    async (sluice, dir) => {
      const child = flooder(port);
      let flooding = true;
      const ended = child.status.then((status) => {
        flooding = false;
        return status;
      });
      // Answers that came back while the flooder was still sending.
      let answeredDuringFlood = 0;
      let probes = 0;
      while (flooding) {
        probes++;
        // A new connection each time, as a load balancer's health check makes.
        assert.match(await getHealth(sluice.url), /^HTTP\/1\.1 200 /);
        if (flooding) answeredDuringFlood++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal((await ended).code, 0);
      // Before the fix, the first probe waited for the end of the flood: 0 of 1.
      assert.ok(
        answeredDuringFlood >= 3,
        `${answeredDuringFlood} of ${probes} /health requests answered during the flood`,
      );
      let written = 0;
      await waitFor(
        async () => {
          const metrics = await (await fetch(`${sluice.url}/metrics`)).text();
          written = metricValue(metrics, "sluice_records_out_total", { component: "out" });
          return written >= LINES;
        },
        () => `${written} of ${LINES} lines written`,
        60_000,
      );
      assert.equal(written, LINES);
      assert.equal((await Deno.stat(join(dir, "out.log"))).size, 2 * LINES);
    },
  );
});

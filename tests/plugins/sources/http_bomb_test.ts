/**
 * Compression bombs on the http source through a real `sluice run`: a 1 MiB gzip or deflate
 * body that inflates to 1 GiB gets 413 (`inflated_too_large`, counted) and grows the process'
 * peak RSS (VmHWM) by well under 100 MiB.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { withSluice } from "../../helpers/sluice_process.ts";
import { metricValue } from "../../helpers/metric_value.ts";

const GIB = 1024 * 1024 * 1024;

/** 1 GiB of zeros compressed (about 1 MiB), made as a stream. */
async function bomb(format: "gzip" | "deflate"): Promise<Uint8Array<ArrayBuffer>> {
  const zeros = new Uint8Array(1024 * 1024);
  let sent = 0;
  const source = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      if (sent >= GIB) return controller.close();
      sent += zeros.length;
      controller.enqueue(zeros);
    },
  });
  return new Uint8Array(
    await new Response(source.pipeThrough(
      new CompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>,
    )).arrayBuffer(),
  );
}

async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

for (const format of ["gzip", "deflate"] as const) {
  Deno.test(`http source: a 1 MiB ${format} body inflating to 1 GiB gets 413 and grows peak RSS by under 100 MiB`, async () => {
    const body = await bomb(format);
    assert.ok(body.length < 1.2 * 1024 * 1024, `bomb is ${body.length} bytes`);
    const yaml = (dir: string) =>
      `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http, max_body_bytes: 2MiB }
sinks:
  out: { type: file, inputs: [ingest], path: ${join(dir, "out.log")}, format: json }
`;
    await withSluice(yaml, async (sluice) => {
      // Warm the route so that the baseline includes what any request costs.
      const warm = await fetch(`${sluice.url}/ingest`, { method: "POST", body: '{"m":1}\n' });
      await warm.body?.cancel();
      const before = await peakRss(sluice.pid);
      const res = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        body,
        headers: { "content-encoding": format, "content-type": "application/x-ndjson" },
      });
      const answer = await res.text();
      const grown = (await peakRss(sluice.pid)) - before;
      console.log(
        `${format}: status ${res.status}, peak RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB`,
      );
      assert.equal(res.status, 413, answer);
      assert.match(answer, /max_inflated_bytes/);
      assert.ok(grown < 100 * 2 ** 20, `peak RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
      const metrics = await (await fetch(`${sluice.url}/metrics`)).text();
      assert.equal(
        metricValue(metrics, "sluice_records_rejected_total", { reason: "inflated_too_large" }),
        1,
      );
    });
  });
}

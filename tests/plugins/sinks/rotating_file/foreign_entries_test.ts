/**
 * rotating_file never deletes what it did not write, through a real `sluice run`: foreign
 * directories named like its temporary files and like a backup survive, are skipped and
 * counted, and rotation goes on so that the live file stays near `max_bytes`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { withSluice } from "../../../helpers/sluice_process.ts";
import { metricValue } from "../../../helpers/metric_value.ts";

const MAX_BYTES = 16 * 1024;

Deno.test("rotating_file skips foreign directories named like its backups and temporary files, deletes none, and keeps rotating", async () => {
  const foreign = [
    join("logs", ".app.log.delete-1.tmp"),
    join("logs", ".app.log.compress-1.tmp"),
    join("logs", ".app.log.next-1.tmp"),
    join("logs", "app.log.2"),
  ];
  const yaml = (dir: string) =>
    `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http }
sinks:
  out: { type: rotating_file, inputs: [ingest], path: ${
      join(dir, "logs", "app.log")
    }, format: json, max_bytes: ${MAX_BYTES}, backups: 3 }
`;
  let metrics = "";
  await withSluice(yaml, async (sluice, dir) => {
    for (let request = 0; request < 40; request++) {
      const body = Array.from(
        { length: 50 },
        (_, i) => JSON.stringify({ msg: `record ${request}-${i} `.padEnd(100, "x") }),
      ).join("\n");
      const res = await fetch(`${sluice.url}/ingest`, { method: "POST", body });
      assert.equal(res.status, 200, await res.text());
    }
    // Rotation happens as batches are written; wait until the last record is.
    const end = Date.now() + 10_000;
    for (;;) {
      metrics = await (await fetch(`${sluice.url}/metrics`)).text();
      if (metricValue(metrics, "sluice_records_out_total", { component: "out" }) >= 2000) break;
      if (Date.now() > end) throw new Error(`not all written:\n${metrics}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const { stderr } = await sluice.stop();
    assert.equal(stderr.match(/not written by it/g)?.length ?? 0, 1, stderr);
    for (const path of foreign) {
      assert.equal(await Deno.readTextFile(join(dir, path, "precious.txt")), "not sluice's", path);
    }
    const live = (await Deno.stat(join(dir, "logs", "app.log"))).size;
    console.log(`live file ${live} bytes (max_bytes ${MAX_BYTES})`);
    assert.ok(live <= 2 * MAX_BYTES, `live file is ${live} bytes, ${live / MAX_BYTES}x max_bytes`);
  }, {
    async prepare(dir) {
      for (const path of foreign) {
        await Deno.mkdir(join(dir, path), { recursive: true });
        await Deno.writeTextFile(join(dir, path, "precious.txt"), "not sluice's");
      }
    },
  });
  assert.ok(metricValue(metrics, "sluice_rotations_total") >= 10);
  assert.ok(metricValue(metrics, "sluice_files_skipped_total") >= 4);
  assert.equal(metricValue(metrics, "sluice_file_errors_total"), 0);
});

import assert from "node:assert/strict";
import { loadConfig, Pipeline, type PluginDefinition } from "../../../mod.ts";
import { DiskBuffer } from "../../../src/pipeline/disk_buffer/disk_buffer.ts";
import { createApp } from "../../../src/server/app.ts";
import failingSink from "../../helpers/failing_sink.ts";
import { metricValue } from "../../helpers/metric_value.ts";
import { promtool, skipWithout } from "../../helpers/peers.ts";
import { promtoolCheck } from "../../helpers/promtool_check.ts";

const record = (i: number) => ({
  time: i,
  level: 20,
  logger: "app",
  message: `left ${i}`,
  fields: { i },
});

function segmentBytesOn(dir: string): number {
  let total = 0;
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name.endsWith(".seg")) total += Deno.statSync(`${dir}/${entry.name}`).size;
  }
  return total;
}

async function pipelineWith(dir: string, buffer: Record<string, unknown>) {
  const loaded = await loadConfig({
    server: { listen: "127.0.0.1:0", rate_limit: { requests_per_second: 0 } },
    data_dir: `${dir}/data`,
    sources: { ingest: { type: "http", acknowledgements: true, ack_timeout: "300ms" } },
    sinks: { peer: { type: "failing", message: "peer down", buffer: { type: "disk", ...buffer } } },
  }, { plugins: [failingSink as PluginDefinition] });
  return await Pipeline.create(loaded.config, { formatters: loaded.formatters });
}

const ndjson = (from: number, n: number, pad = 0) =>
  Array.from(
    { length: n },
    (_, i) => JSON.stringify({ message: `m${from + i}`, pad: "x".repeat(pad) }),
  )
    .join("\n") + "\n";

Deno.test({
  name:
    "/metrics shows a disk buffer's bytes, records, oldest age, corrupt frames and moved-aside segments; promtool accepts it",
  ignore: skipWithout(promtool()),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_buffer_metrics_" });
    const bufferDir = `${dir}/data/buffers/peer`;
    try {
      // What a previous run left: 3 records appended a minute ago, then a torn append, and a
      // segment that cannot be opened.
      const left = DiskBuffer.open({
        dir: bufferDir,
        fsync: "always",
        now: () => Date.now() - 60_000,
      });
      left.append([record(1), record(2), record(3)]);
      left.close();
      const [segment] = [...Deno.readDirSync(bufferDir)].map((e) => e.name).filter((n) =>
        n.endsWith(".seg")
      );
      const file = await Deno.open(`${bufferDir}/${segment}`, { append: true });
      await file.write(new Uint8Array([0xff, 0x53, 0x4c, 0x42, 9, 9, 9]));
      file.close();
      Deno.symlinkSync(`${dir}/gone`, `${bufferDir}/00000000000000000042.seg`);

      const pipeline = await pipelineWith(dir, { max_bytes: "1MiB" });
      try {
        const app = createApp(pipeline);
        const posted = await app.request("/ingest", { method: "POST", body: ndjson(0, 5) });
        assert.equal(posted.status, 200, "appended to the disk buffer is safe, peer down or not");
        await posted.body?.cancel();
        const text = await (await app.request("/metrics")).text();
        const series = (name: string) => metricValue(text, name, { component: "peer" });
        assert.equal(series("sluice_buffer_records"), 8, "3 replayed + 5 new");
        assert.equal(series("sluice_buffer_bytes"), segmentBytesOn(bufferDir));
        assert.ok(series("sluice_buffer_bytes") > 0);
        const age = series("sluice_buffer_oldest_record_age_seconds");
        assert.ok(age >= 59 && age < 120, `oldest age ${age}`);
        assert.equal(series("sluice_buffer_corrupt_frames_total"), 1);
        assert.equal(series("sluice_buffer_segments_moved_aside_total"), 1);
        assert.equal(series("sluice_buffer_replayed_records_total"), 3);
        assert.ok(
          Deno.lstatSync(`${bufferDir}/00000000000000000042.seg.unreadable`).isSymlink,
          "the unreadable segment was moved aside",
        );
        const check = await promtoolCheck(text);
        assert.equal(check.code, 0, `promtool said:\n${check.output}\n--- metrics ---\n${text}`);
      } finally {
        await pipeline.shutdown(300);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a full disk buffer with when_full: drop_newest drops and counts, and acknowledgements answer 503 with Retry-After", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_buffer_drop_newest_" });
  try {
    const pipeline = await pipelineWith(dir, { max_bytes: "64KiB", when_full: "drop_newest" });
    try {
      const app = createApp(pipeline);
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      // 2 KiB records, 10 per request: the 64 KiB bound is reached within a few requests.
      for (let i = 0; i < 8; i++) {
        const response = await app.request("/ingest", {
          method: "POST",
          body: ndjson(i * 10, 10, 2048),
        });
        statuses.push(response.status);
        if (response.status === 503) retryAfter ??= response.headers.get("retry-after");
        await response.body?.cancel();
      }
      assert.equal(statuses[0], 200, `statuses ${statuses}`);
      assert.ok(statuses.includes(503), `statuses ${statuses}`);
      assert.equal(retryAfter, "1");
      const text = await (await app.request("/metrics")).text();
      const dropped = metricValue(text, "sluice_records_dropped_total", {
        component: "peer",
        reason: "buffer_full",
      });
      const kept = metricValue(text, "sluice_buffer_records", { component: "peer" });
      const refused = metricValue(text, "sluice_records_not_acknowledged_total");
      assert.ok(dropped > 0, "drops are counted");
      assert.equal(kept + dropped, 80, `kept ${kept} + dropped ${dropped} is every record sent`);
      assert.ok(refused >= dropped, "every request with a drop was refused");
      assert.ok(
        metricValue(text, "sluice_buffer_bytes", { component: "peer" }) <=
          64 * 1024 + 2 * 1024 * 10,
      );
    } finally {
      await pipeline.shutdown(300);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full disk buffer with when_full: block holds the sender, then answers 503 at ack_timeout and drops nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_buffer_block_" });
  try {
    const pipeline = await pipelineWith(dir, { max_bytes: "64KiB" });
    try {
      const app = createApp(pipeline);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await app.request("/ingest", {
          method: "POST",
          body: ndjson(i * 10, 10, 2048),
        });
        statuses.push(response.status);
        await response.body?.cancel();
        if (response.status === 503) break;
      }
      assert.equal(statuses.at(-1), 503, `statuses ${statuses}`);
      const text = await (await app.request("/metrics")).text();
      assert.equal(metricValue(text, "sluice_records_dropped_total", { component: "peer" }), 0);
      const accepted = statuses.filter((status) => status === 200).length;
      assert.equal(
        metricValue(text, "sluice_buffer_records", { component: "peer" }),
        10 * accepted,
        "the buffer holds exactly the acknowledged requests' records",
      );
    } finally {
      await pipeline.shutdown(300);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { loadConfig, Pipeline, type PluginDefinition } from "../../mod.ts";
import { createApp } from "../../src/server/app.ts";
import failingSink from "../helpers/failing_sink.ts";
import { promtool, skipWithout } from "../helpers/peers.ts";
import { promtoolCheck } from "../helpers/promtool_check.ts";
import { runCli, startSluice } from "../helpers/sluice_process.ts";

const peer = promtool();

Deno.test({
  name: "promtool check metrics accepts /metrics of a busy pipeline (drops, rejections, failures)",
  ignore: skipWithout(peer),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_promtool_" });
    const loaded = await loadConfig({
      server: { listen: "127.0.0.1:0", rate_limit: { requests_per_second: 1, burst: 1 } },
      sources: { ingest: { type: "http" } },
      sinks: {
        file: { type: "file", path: `${dir}/app.log`, format: "json" },
        broken: { type: "failing", message: 'quote " and \\ backslash\nnew line' },
      },
    }, { plugins: [failingSink as PluginDefinition] });
    const pipeline = await Pipeline.create(loaded.config, { formatters: loaded.formatters });
    try {
      const app = createApp(pipeline);
      const ndjson = '{"message":"a"}\n{"message":"b"}\nnot json\n';
      await app.request("/ingest", { method: "POST", body: ndjson });
      await app.request("/ingest", { method: "POST", body: ndjson }); // rate limited
      await app.request("/nowhere");
      await pipeline.flush(300);
      const res = await app.request("/metrics");
      const text = await res.text();
      assert.match(text, /sluice_http_rejections_total\{reason="rate_limited"\} 1/);
      assert.match(text, /sluice_component_errors_total\{component="broken"/);
      const check = await promtoolCheck(text);
      assert.equal(check.code, 0, `promtool said:\n${check.output}\n--- metrics ---\n${text}`);
      // The peer is not vacuous: a series without HELP fails its lint.
      assert.notEqual((await promtoolCheck(text + "sluice_stray 1\n")).code, 0);
    } finally {
      await pipeline.shutdown(200);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "promtool check metrics accepts /metrics served by sluice run",
  ignore: skipWithout(peer),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_promtool_run_" });
    try {
      const config = `${dir}/sluice.yaml`;
      await Deno.writeTextFile(
        config,
        "server: { listen: 127.0.0.1:0 }\nsources:\n  ingest: { type: http }\n" +
          "sinks:\n  file: { type: file, path: app.log }\n",
      );
      assert.equal((await runCli(["check", "--config", config])).code, 0);
      const sluice = await startSluice(config);
      try {
        const posted = await fetch(`${sluice.url}/ingest`, {
          method: "POST",
          body: '{"message":"x"}\n',
        });
        await posted.body?.cancel();
        const text = await (await fetch(`${sluice.url}/metrics`)).text();
        const check = await promtoolCheck(text);
        assert.equal(check.code, 0, `promtool said:\n${check.output}`);
      } finally {
        await sluice.stop("SIGTERM");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

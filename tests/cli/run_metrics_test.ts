import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { promtool, skipWithout } from "../helpers/peers.ts";
import { promtoolCheck } from "../helpers/promtool_check.ts";
import { startSluice } from "../helpers/sluice_process.ts";

/** The value of the one series of `text` named `name` with exactly `labels`. */
function value(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  assert.ok(line, `no ${name}${labels} in:\n${text}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** utime + stime (seconds) and the start time (epoch seconds) of a process from /proc. */
function procTimes(pid: number): { cpu: number; start: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = 100; // USER_HZ, 100 on every Linux architecture Deno runs on
  const bootTime = Number(/^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"))![1]);
  return {
    cpu: (Number(fields[11]) + Number(fields[12])) / ticks,
    start: bootTime + Number(fields[19]) / ticks,
  };
}

Deno.test({
  name: "sluice run's /metrics: process families, build info, server and sink requests apart, " +
    "a write-latency histogram per sink (promtool accepts it)",
  ignore: Deno.build.os !== "linux" || skipWithout(promtool()),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice_run_metrics_" });
    const received: string[] = [];
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        received.push(await req.text());
        return new Response(null, { status: 200 });
      },
    );
    try {
      const config = `${dir}/sluice.yaml`;
      await Deno.writeTextFile(
        config,
        [
          "server: { listen: 127.0.0.1:0 }",
          "sources:",
          "  ingest: { type: http, path: /ingest }",
          "sinks:",
          "  file: { type: file, path: app.log, format: json }",
          "  out:",
          "    type: http",
          `    url: http://127.0.0.1:${receiver.addr.port}/logs`,
          "    preset: ndjson",
          "",
        ].join("\n"),
      );
      const spawned = Date.now() / 1000;
      const sluice = await startSluice(config, { cwd: dir });
      try {
        const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ message: `m${i}` }));
        const posted = await fetch(`${sluice.url}/ingest`, {
          method: "POST",
          body: lines.join("\n") + "\n",
        });
        assert.equal(posted.status, 200);
        await posted.body?.cancel();
        // Delivered to both sinks: the file and the receiver.
        for (let i = 0; i < 100; i++) {
          const text = await (await fetch(`${sluice.url}/metrics`)).text();
          if (
            /^sluice_records_out_total\{component="out",kind="sink"\} 20$/m.test(text) &&
            /^sluice_records_out_total\{component="file",kind="sink"\} 20$/m.test(text)
          ) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const before = procTimes(sluice.pid);
        const text = await (await fetch(`${sluice.url}/metrics`)).text();
        const after = procTimes(sluice.pid);

        // What the server answered and what a sink sent are separate families.
        assert.doesNotMatch(text, /^sluice_http_requests_total/m);
        assert.equal(
          value(text, "sluice_http_server_requests_total", '{route="/ingest",status="200"}'),
          1,
        );
        assert.doesNotMatch(text, /^sluice_http_server_requests_total\{[^}]*component=/m);
        assert.ok(
          value(text, "sluice_http_client_requests_total", '{component="out",status="200"}') >= 1,
        );
        assert.doesNotMatch(text, /^sluice_http_client_requests_total\{[^}]*route=/m);
        assert.equal(received.join("").trim().split("\n").length, 20);

        // One write-latency histogram per sink, consistent and in seconds.
        assert.match(text, /^# TYPE sluice_sink_write_seconds histogram$/m);
        for (const sink of ["file", "out"]) {
          const count = value(text, "sluice_sink_write_seconds_count", `{component="${sink}"}`);
          assert.ok(count >= 1, `${sink} wrote at least one batch`);
          assert.equal(
            value(text, "sluice_sink_write_seconds_bucket", `{component="${sink}",le="+Inf"}`),
            count,
          );
          const sum = value(text, "sluice_sink_write_seconds_sum", `{component="${sink}"}`);
          assert.ok(sum > 0 && sum < 10, `${sink}: ${sum} s`);
        }

        // The process families agree with what the kernel says about the process.
        assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
        const cpu = value(text, "process_cpu_seconds_total");
        assert.ok(cpu >= before.cpu - 0.02 && cpu <= after.cpu + 0.02, `${cpu} vs ${after.cpu}`);
        const rss = value(text, "process_resident_memory_bytes");
        const status = Deno.readTextFileSync(`/proc/${sluice.pid}/status`);
        const vmRss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
        assert.ok(Math.abs(rss - vmRss) < vmRss * 0.2, `${rss} vs VmRSS ${vmRss}`);
        const start = value(text, "process_start_time_seconds");
        assert.ok(Math.abs(start - before.start) < 1, `${start} vs /proc ${before.start}`);
        assert.ok(start >= spawned - 1 && start <= Date.now() / 1000);
        assert.equal(value(text, "sluice_build_info", `{version="${denoJson.version}"}`), 1);

        const check = await promtoolCheck(text);
        assert.equal(check.code, 0, `promtool said:\n${check.output}\n--- metrics ---\n${text}`);
      } finally {
        await sluice.stop("SIGTERM");
      }
    } finally {
      await receiver.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

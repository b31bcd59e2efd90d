import assert from "node:assert/strict";
import { startSluice } from "../helpers/sluice_process.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test("sluice run: traced records over HTTP ingest and a tailed file reach a stats sink; /stats and /metrics answer them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = [1, 2, 3].map((i) =>
      JSON.stringify({
        level: i === 3 ? "error" : "info",
        message: i === 3 ? "Database connection timeout" : "tick",
        service: "billing",
        trace_id: `${i}`.padStart(32, "a"),
        span_id: "00f067aa0ba902b7",
      })
    ).join("\n") + "\n";
    await Deno.writeTextFile(`${dir}/billing.log`, file);
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        `data_dir: ${dir}/.sluice`,
        "server: { listen: 127.0.0.1:0, token: t0ken-0123456789ab }",
        "sources:",
        `  files: { type: file, include: ["${dir}/*.log"], parser: json }`,
        "  ingest: { type: http }",
        "sinks:",
        "  analysis: { type: stats, inputs: [files, ingest], window: 5m, max_services: 10 }",
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config);
    const auth = { authorization: "Bearer t0ken-0123456789ab" };
    try {
      const body = [
        { level: "info", message: "Starting payment processing", service: "payment-service" },
        { level: "error", message: "Authentication failed", service: "payment-service" },
      ].map((r) => JSON.stringify({ ...r, trace_id: TRACE, span_id: "b7ad6b7169203331" }))
        .join("\n") + "\n";
      const posted = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/x-ndjson" },
        body,
      });
      assert.equal(posted.status, 200, await posted.text());

      const denied = await fetch(`${sluice.url}/stats`);
      assert.equal(denied.status, 401);
      await denied.body?.cancel();

      const stats = await until(async () => {
        const res = await fetch(`${sluice.url}/stats`, { headers: auth });
        const all = await res.json();
        return all.analysis?.records_total === 5 ? all.analysis : undefined;
      }, "5 records in /stats");
      assert.equal(stats.total_services, 2);
      assert.equal(stats.active_traces, 4, "three from the file, one over HTTP");
      assert.deepEqual(stats.service_distribution, {
        billing: { INFO: 2, ERROR: 1 },
        "payment-service": { INFO: 1, ERROR: 1 },
      });
      assert.deepEqual(
        stats.recent_errors.map((e: Record<string, string>) => e.message).sort(),
        ["Authentication failed", "Database connection timeout"],
      );
      const traced = stats.recent_errors.find((e: Record<string, string>) =>
        e.service === "payment-service"
      );
      assert.equal(traced.trace_id, TRACE);

      const one = await fetch(`${sluice.url}/stats/analysis`, { headers: auth });
      assert.equal((await one.json()).records_total, 5);
      const metrics = await (await fetch(`${sluice.url}/metrics`, { headers: auth })).text();
      assert.match(
        metrics,
        /^sluice_log_records_total\{component="analysis",service="payment-service",level="ERROR"\} 1$/m,
      );
      assert.match(
        metrics,
        /^sluice_log_records_total\{component="analysis",service="billing",level="INFO"\} 2$/m,
      );
    } finally {
      const result = await sluice.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

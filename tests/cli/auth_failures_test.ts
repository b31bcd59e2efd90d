// Failed authentications through a real `sluice run`: past server.auth_failures a client
// is answered 429 with Retry-After on every authenticated route, counted in /metrics.
import assert from "node:assert/strict";
import { startSluice } from "../helpers/sluice_process.ts";

const TOKEN = "auth-test-0123456789abcdef";

Deno.test("sluice run: a client past its failed authentications gets 429 on every authenticated route", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_auth_" });
  try {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        `data_dir: ${dir}/.sluice`,
        `server: { listen: 127.0.0.1:0, token: ${TOKEN}, auth_failures: { max: 3, window: 3s } }`,
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        `  out: { type: file, path: ${dir}/out.log }`,
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config);
    try {
      const wrong = { authorization: "Bearer guess-0123456789abcdef" };
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${sluice.url}/metrics`, { headers: wrong });
        await res.body?.cancel();
        assert.equal(res.status, 401);
      }
      // Every authenticated route, even with the right token now: guessing is what is limited.
      const requests: [string, RequestInit][] = [
        ["/metrics", { headers: wrong }],
        ["/metrics", { headers: { authorization: `Bearer ${TOKEN}` } }],
        ["/stats", { headers: wrong }],
        ["/live", { headers: wrong }],
        ["/ingest", { method: "POST", body: '{"message":"x"}\n', headers: wrong }],
      ];
      let retryAfter = 0;
      for (const [path, init] of requests) {
        const res = await fetch(`${sluice.url}${path}`, init);
        assert.equal(res.status, 429, path);
        assert.deepEqual(await res.json(), {
          error: "Too many failed authentications; retry later",
        });
        retryAfter = Number(res.headers.get("retry-after"));
        assert.ok(retryAfter >= 1 && retryAfter <= 3, `Retry-After ${retryAfter}`);
      }
      const health = await fetch(`${sluice.url}/health`);
      await health.body?.cancel();
      assert.equal(health.status, 200, "probes stay open");
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      const metrics = await fetch(`${sluice.url}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.match(text, /^sluice_http_rejections_total\{reason="unauthorized"\} 3$/m);
      assert.match(text, /^sluice_http_rejections_total\{reason="auth_failures"\} 5$/m);
    } finally {
      await sluice.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

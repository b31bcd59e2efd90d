import assert from "node:assert/strict";
import { loadConfig, Pipeline } from "../../mod.ts";
import { createApp } from "../../src/server/app.ts";
import { DASHBOARD_CSP } from "../../src/server/dashboard/dashboard.ts";
import { UPLOT_CSS, UPLOT_JS } from "../../src/server/dashboard/uplot_assets.ts";
import { uplotAssetsModule } from "../../scripts/uplot_assets_module.ts";
import { metricValue } from "../helpers/metric_value.ts";
import { runCli, startSluice } from "../helpers/sluice_process.ts";

async function dashboardApp() {
  const { config, formatters } = await loadConfig({
    server: { listen: "127.0.0.1:0", token: "s3cret-dashboard-token" },
    sinks: { analysis: { type: "stats" } },
  });
  const pipeline = await Pipeline.create(config, { formatters });
  return { app: createApp(pipeline), pipeline };
}

Deno.test("dashboard: GET / answers the page without a token, and its data routes still require one", async () => {
  const { app, pipeline } = await dashboardApp();
  await using _ = pipeline;
  const page = await app.request("/");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("content-security-policy"), DASHBOARD_CSP);
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  const html = await page.text();
  // Relative links only: the page works below a reverse proxy's prefix, and loads nothing
  // from another origin.
  assert.deepEqual(
    [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
    [
      "data:,",
      "dashboard/uplot.css",
      "dashboard/app.css",
      "dashboard/uplot.js",
      "dashboard/app.js",
    ],
  );
  assert.doesNotMatch(html, /<script>|<style>|https?:/, "no inline code, no other origin");

  assert.equal((await app.request("/stats")).status, 401);
  assert.equal((await app.request("/live")).status, 401);
  const authed = await app.request("/stats", {
    headers: { authorization: "Bearer s3cret-dashboard-token" },
  });
  assert.equal(authed.status, 200);
  assert.equal(authed.headers.get("content-security-policy"), "default-src 'none'");
});

Deno.test("dashboard: scripts and stylesheets are served with their types, and counted under their routes", async () => {
  const { app, pipeline } = await dashboardApp();
  await using _ = pipeline;
  const types: Record<string, string> = {
    "/dashboard/app.js": "text/javascript; charset=utf-8",
    "/dashboard/uplot.js": "text/javascript; charset=utf-8",
    "/dashboard/app.css": "text/css; charset=utf-8",
    "/dashboard/uplot.css": "text/css; charset=utf-8",
  };
  for (const [path, type] of Object.entries(types)) {
    const res = await app.request(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-type"), type, path);
    assert.equal(res.headers.get("content-security-policy"), DASHBOARD_CSP, path);
    const text = await res.text();
    if (path === "/dashboard/uplot.js") assert.equal(text, UPLOT_JS);
    if (path === "/dashboard/uplot.css") assert.equal(text, UPLOT_CSS);
    // Compiles as a classic script (not run: it needs a browser).
    if (path.endsWith(".js")) new Function(text);
  }
  const appJs = await (await app.request("/dashboard/app.js")).text();
  assert.match(appJs, /^"use strict";\n\(function dashboard\(uPlot\) \{/);
  assert.match(appJs, /\}\)\(globalThis\.uPlot\);\n$/);
  const metrics = await (await app.request("/metrics", {
    headers: { authorization: "Bearer s3cret-dashboard-token" },
  })).text();
  assert.equal(
    metricValue(metrics, "sluice_http_server_requests_total", { route: "/dashboard/app.js" }),
    2,
  );
  assert.equal(metricValue(metrics, "sluice_http_server_requests_total", { route: "other" }), 0);
});

Deno.test("dashboard: the vendored uPlot is the npm package's build, with its MIT license", async () => {
  const vendored = await Deno.readTextFile(
    new URL("../../src/server/dashboard/uplot_assets.ts", import.meta.url),
  );
  assert.equal(
    vendored,
    await uplotAssetsModule(),
    "src/server/dashboard/uplot_assets.ts differs from the pinned package: run scripts/vendor_uplot.ts",
  );
  assert.match(vendored, /The MIT License \(MIT\)\n \*\n \* Copyright \(c\) 2022 Leon Sorokin/);
  assert.match(
    UPLOT_JS,
    /^\/\*! https:\/\/github\.com\/leeoniya\/uPlot \(v1\.6\.32\) \*\/\nvar uPlot=/,
  );
});

Deno.test("dashboard: a real sluice run serves it under the narrow permissions `sluice permissions` prints (no file read for it)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/sluice.yaml`,
      [
        `data_dir: ${dir}/.sluice`,
        "server: { listen: 127.0.0.1:0, token: narrow-dashboard-token }",
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        "  analysis: { type: stats, inputs: [ingest] }",
        "",
      ].join("\n"),
    );
    const printed = await runCli(["permissions", "--config", `${dir}/sluice.yaml`]);
    assert.equal(printed.code, 0, printed.stderr);
    const flags = printed.stdout.trim().split(" ");
    assert.ok(flags.every((f) => !f.startsWith("--allow-read=") || !f.includes("dashboard")));
    const sluice = await startSluice(`${dir}/sluice.yaml`, { flags });
    try {
      for (
        const path of ["/", "/dashboard/app.js", "/dashboard/uplot.js", "/dashboard/uplot.css"]
      ) {
        const res = await fetch(`${sluice.url}${path}`);
        assert.equal(res.status, 200, path);
        assert.ok((await res.text()).length > 100, path);
      }
      const stats = await fetch(`${sluice.url}/stats`, {
        headers: { authorization: "Bearer narrow-dashboard-token" },
      });
      assert.equal((await stats.json()).analysis.records_total, 0);
    } finally {
      const result = await sluice.stop();
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /Requires \w+ access/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

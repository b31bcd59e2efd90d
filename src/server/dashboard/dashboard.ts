/**
 * The dashboard at `/`: one page, its script and stylesheet, and uPlot's, all served from
 * the package (no build step, no CDN, no file reads).
 *
 * @module
 */

import type { Env, Hono } from "hono";
import { dashboard } from "./client.js";
import { UPLOT_CSS, UPLOT_JS } from "./uplot_assets.ts";

/**
 * The page's Content-Security-Policy: scripts, styles and requests only from Sluice itself
 * (no inline script, no other origin); everything else refused.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The dashboard's paths, relative links from the page (it works below a proxy's prefix). */
export const DASHBOARD_PATHS = [
  "/",
  "/dashboard/app.js",
  "/dashboard/app.css",
  "/dashboard/uplot.js",
  "/dashboard/uplot.css",
] as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboard/uplot.css">
<link rel="stylesheet" href="dashboard/app.css">
</head>
<body>
<header>
  <h1>Sluice</h1>
  <span id="status" data-state="connecting">Connecting</span>
  <span id="updated"></span>
</header>
<form id="token-form" hidden>
  <label>Token <input id="token-input" type="password" autocomplete="current-password"></label>
  <button type="submit">Connect</button>
</form>
<main>
  <section>
    <h2>Throughput (records in per second)</h2>
    <div id="chart"></div>
  </section>
  <section>
    <h2>Components</h2>
    <table class="grid">
      <thead><tr>
        <th>component</th><th>kind</th><th class="num">in/s</th><th class="num">out/s</th>
        <th class="num">dropped/s</th><th class="num">in</th><th class="num">out</th>
        <th class="num">dropped</th><th class="num">errors</th><th class="num">queue</th>
        <th class="num">disk buffer</th><th>health</th>
      </tr></thead>
      <tbody id="components"></tbody>
    </table>
  </section>
  <p id="no-stats" hidden>No <code>stats</code> sink is configured, so there is no analysis to show:
  add one, such as <code>analysis: { type: stats, inputs: [files] }</code>, under <code>sinks:</code>.</p>
  <div id="analysis"></div>
</main>
<script src="dashboard/uplot.js"></script>
<script src="dashboard/app.js"></script>
</body>
</html>
`;

const STYLE = `:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #f6f7f9;
  --panel: #fff; --line: #e3e6eb; --ok: #2a9d5c; --bad: #d63b2f; --warn: #b7791f; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ec; --muted: #9aa3b2; --bg: #14171c;
  --panel: #1c2027; --line: #2c323c; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 16px; align-items: baseline; padding: 12px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 16px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); }
main { padding: 16px 24px; display: grid; gap: 16px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px;
  overflow-x: auto; }
#analysis { display: grid; gap: 16px; }
#status::before { content: "●"; margin-right: 6px; color: var(--warn); }
#status[data-state="live"]::before { color: var(--ok); }
#status[data-state="down"]::before, #status[data-state="unauthorized"]::before { color: var(--bad); }
#updated { color: var(--muted); }
#token-form { padding: 12px 24px; }
table.grid { border-collapse: collapse; width: 100%; }
.grid th, .grid td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
.grid th { font-weight: 600; color: var(--muted); }
.grid td.message { white-space: normal; word-break: break-word; min-width: 220px; }
.scroll { max-height: 360px; overflow-y: auto; }
.num { text-align: right !important; font-variant-numeric: tabular-nums; }
td.ok { color: var(--ok); }
td.bad { color: var(--bad); font-weight: 600; }
.level-ERROR, .level-CRITICAL { color: var(--bad); }
.level-WARN { color: var(--warn); }
td.trace, td.time { font-family: ui-monospace, monospace; font-size: 12px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card-value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card-label { color: var(--muted); }
.columns { display: grid; grid-template-columns: 3fr 2fr; gap: 16px; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
.u-legend { text-align: left; }
`;

const APP = `"use strict";\n(${dashboard.toString()})(globalThis.uPlot);\n`;

/**
 * Adds the dashboard's routes to `app`: `GET /` (the page) and its scripts and stylesheets
 * under `/dashboard/`. They are static and answer without a token; everything the page shows
 * it reads from `/live` and `/stats`, which keep the server's token rules (the page passes
 * the token from its `#token=` fragment as `Authorization: Bearer`). The page's responses
 * carry {@linkcode DASHBOARD_CSP}.
 *
 * @example Serve the page without binding a port
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { addDashboard } from "./dashboard.ts";
 * const app = new Hono();
 * addDashboard(app);
 * const page = await app.request("/");
 * assert.equal(page.status, 200);
 * assert.match(await page.text(), /<title>Sluice<\/title>/);
 * assert.match((await app.request("/dashboard/uplot.js")).headers.get("content-type") ?? "", /javascript/);
 * ```
 */
export function addDashboard<E extends Env>(app: Hono<E>): void {
  const assets: [string, string, string][] = [
    ["/", "text/html; charset=utf-8", PAGE],
    ["/dashboard/app.js", "text/javascript; charset=utf-8", APP],
    ["/dashboard/app.css", "text/css; charset=utf-8", STYLE],
    ["/dashboard/uplot.js", "text/javascript; charset=utf-8", UPLOT_JS],
    ["/dashboard/uplot.css", "text/css; charset=utf-8", UPLOT_CSS],
  ];
  for (const [path, type, body] of assets) {
    app.get(path, (c) =>
      c.body(body, 200, {
        "Content-Type": type,
        "Content-Security-Policy": DASHBOARD_CSP,
      }));
  }
}

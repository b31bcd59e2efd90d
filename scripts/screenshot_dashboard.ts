/**
 * Regenerates docs/dashboard.png, the README's screenshot of the dashboard: a real
 * `sluice run` (three services' files tailed and an HTTP ingest route, into a file sink and
 * a stats sink) fed for about 20 seconds at a changing rate, photographed by Debian's
 * chromium through playwright-core.
 *
 * Run: `deno run -A scripts/screenshot_dashboard.ts [out.png]` (needs `apt-get install -y chromium`)
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/helpers/chromium.ts";
import { startSluice } from "../tests/helpers/sluice_process.ts";

const OUT = Deno.args[0] ?? fileURLToPath(new URL("../docs/dashboard.png", import.meta.url));
const TOKEN = "dashboard-demo-token";
const SECONDS = 20;
const ERRORS = [
  "Database connection timeout",
  "Authentication failed",
  "Payment provider answered 502",
];

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
// Eight records per trace, under random-looking ids as real tracers make.
const traces = new Map<number, string>();
const traceId = (n: number) => {
  let id = traces.get(n);
  if (id === undefined) traces.set(n, id = crypto.randomUUID().replaceAll("-", ""));
  return id;
};

/** One second's records of a service: mostly INFO, some DEBUG and WARN, a few errors. */
function records(service: string, second: number, count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = second * 10_000 + i;
    const level = i % 397 === 396
      ? "error"
      : i % 23 === 22
      ? "warn"
      : i % 5 === 4
      ? "debug"
      : "info";
    const message = level === "error"
      ? ERRORS[(n + service.length) % ERRORS.length]
      : level === "warn"
      ? "Slow response"
      : "Request handled";
    lines.push(JSON.stringify({
      time: new Date().toISOString(),
      level,
      message,
      service,
      trace_id: traceId(service.length * 1_000_000 + Math.floor(n / 8)),
      span_id: hex(n + 1, 16),
    }));
  }
  return lines.join("\n") + "\n";
}

const dir = await Deno.makeTempDir({ prefix: "sluice-dashboard-" });
try {
  const config = `${dir}/sluice.yaml`;
  await Deno.writeTextFile(
    config,
    [
      `data_dir: ${dir}/.sluice`,
      `server: { listen: 127.0.0.1:0, token: ${TOKEN} }`,
      "sources:",
      `  files: { type: file, include: ["${dir}/logs/*.log"], parser: json }`,
      "  ingest: { type: http }",
      "sinks:",
      `  archive: { type: file, inputs: [files, ingest], path: ${dir}/archive.log, format: json }`,
      "  analysis: { type: stats, inputs: [files, ingest], window: 5m, service_field: service }",
      "",
    ].join("\n"),
  );
  await Deno.mkdir(`${dir}/logs`);
  const sluice = await startSluice(config);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${sluice.url}/#token=${TOKEN}`);
    for (let second = 0; second < SECONDS; second++) {
      // A rate that rises and falls, so that the chart has a shape.
      const wave = 1 + Math.sin(second / 3);
      await Deno.writeTextFile(
        `${dir}/logs/checkout.log`,
        records("checkout", second, Math.round(300 + 250 * wave)),
        { append: true },
      );
      await Deno.writeTextFile(
        `${dir}/logs/inventory.log`,
        records("inventory", second, Math.round(120 + 60 * (2 - wave))),
        { append: true },
      );
      const posted = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-ndjson" },
        body: records("payment-service", second, Math.round(200 + 150 * wave)),
      });
      await posted.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await page.waitForSelector("[data-sink=analysis]");
    await page.screenshot({ path: OUT, fullPage: true });
    console.log(`Wrote ${OUT}`);
  } finally {
    await browser.close();
    await sluice.stop();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

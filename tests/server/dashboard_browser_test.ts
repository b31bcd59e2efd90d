import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { chromium, launchChromium } from "../helpers/chromium.ts";
import { skipWithout } from "../helpers/peers.ts";
import { startSluice } from "../helpers/sluice_process.ts";
import { fileURLToPath } from "node:url";

const FAILING_SINK = fileURLToPath(new URL("../helpers/failing_sink.ts", import.meta.url));

const TOKEN = "browser-test-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const HOSTILE = `<img src=x onerror="document.title='pwned'">`;

interface Analysis {
  records_total: number;
  total_services: number;
  active_traces: number;
  service_distribution: Record<string, Record<string, number>>;
  recent_errors: { message: string; service: string; trace_id?: string }[];
  top_errors: { message: string; count: number }[];
}

/** What the page shows of the stats sink `analysis`, read from its cells. */
function shown(page: Page) {
  return page.evaluate(() => {
    // Runs in the page; Deno's types have no DOM.
    // deno-lint-ignore no-explicit-any
    const document: any = (globalThis as any).document;
    const sink = document.querySelector("[data-sink=analysis]");
    if (!sink) return undefined;
    const number = (text: string | null | undefined) => Number((text ?? "").replace(/[^\d]/g, ""));
    const stat = (name: string) => number(sink.querySelector(`[data-stat=${name}]`)?.textContent);
    const distribution: Record<string, Record<string, number>> = {};
    for (const row of sink.querySelectorAll("tr[data-service]")) {
      const levels: Record<string, number> = {};
      for (const cell of row.querySelectorAll("td[data-level]")) {
        const level = cell.getAttribute("data-level")!;
        const n = number(cell.textContent);
        if (level !== "total" && n > 0) levels[level] = n;
      }
      distribution[row.getAttribute("data-service")!] = levels;
    }
    const rows = (list: string) =>
      [...sink.querySelectorAll(`[data-list=${list}] tr`)].map((tr) =>
        [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")
      );
    const components: Record<string, number> = {};
    for (const row of document.querySelectorAll("tr[data-component]")) {
      components[row.getAttribute("data-component")!] = number(
        row.querySelector("[data-stat=records_in]")?.textContent,
      );
    }
    return {
      records_total: stat("records_total"),
      total_services: stat("total_services"),
      active_traces: stat("active_traces"),
      distribution,
      recent_errors: rows("recent_errors").map(([, , service, message, trace]) => ({
        service,
        message,
        trace,
      })),
      top_errors: rows("top_errors").map(([count, message]) => ({ count: number(count), message })),
      components,
      health: [...document.querySelectorAll("tr[data-component] [data-stat=health]")].map((td) =>
        td.textContent
      ),
      status: document.getElementById("status")?.dataset.state,
      canvases: document.querySelectorAll("#chart .uplot canvas").length,
    };
  });
}

type Shown = NonNullable<Awaited<ReturnType<typeof shown>>>;

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  for (;;) {
    const value = await fn().catch((error) => (last = error, undefined));
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what} (last error: ${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Posts `count` records of `service` (every 4th an error) under traces of 2 records each. */
async function post(url: string, service: string, from: number, count: number, message?: string) {
  const lines = [];
  for (let i = from; i < from + count; i++) {
    const error = i % 4 === 3;
    lines.push(JSON.stringify({
      level: error ? "error" : i % 4 === 2 ? "warn" : "info",
      message: error ? (message ?? `Timeout calling ${service}`) : "Request handled",
      service,
      trace_id: `${service.length}${Math.floor(i / 2)}`.padStart(32, "0"),
      span_id: `${i + 1}`.padStart(16, "0"),
    }));
  }
  const res = await fetch(`${url}/ingest`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/x-ndjson" },
    body: lines.join("\n") + "\n",
  });
  assert.equal(res.status, 200, await res.text());
}

/** Waits until the page shows `expected` records and what /stats answers at that moment. */
async function matching(page: Page, url: string, expected: number): Promise<[Shown, Analysis]> {
  return await until(`the page to show ${expected} records as /stats does`, async () => {
    const stats = (await (await fetch(`${url}/stats`, { headers: AUTH })).json()).analysis;
    if (stats.records_total !== expected) return undefined;
    const page_ = await shown(page);
    if (page_?.records_total !== expected) return undefined;
    return [page_, stats] as [Shown, Analysis];
  });
}

function assertMatches(page: Shown, stats: Analysis) {
  assert.equal(page.records_total, stats.records_total);
  assert.equal(page.total_services, stats.total_services);
  assert.equal(page.active_traces, stats.active_traces);
  assert.deepEqual(page.distribution, stats.service_distribution);
  assert.deepEqual(
    page.recent_errors,
    stats.recent_errors.map((e) => ({
      service: e.service,
      message: e.message,
      trace: e.trace_id ?? "",
    })),
  );
  assert.deepEqual(
    page.top_errors,
    stats.top_errors.map((t) => ({ count: t.count, message: t.message })),
  );
}

/**
 * Runs `fn` with a chromium and a real `sluice run` whose http source `ingest` feeds the
 * `sinks` lines (under `sinks:`); then stops sluice, expecting `exitCode`, and cleans up.
 */
async function withDashboard(
  sinks: (dir: string) => string[],
  fn: (sluice: Sluice, browser: Browser, dir: string) => Promise<void>,
  options: { exitCode?: number; extraArgs?: string[] } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const browser = await launchChromium();
  try {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        `data_dir: ${dir}/.sluice`,
        `server: { listen: 127.0.0.1:0, token: ${TOKEN} }`,
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        ...sinks(dir),
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(
      config,
      options.extraArgs ? { extraArgs: options.extraArgs } : {},
    );
    try {
      await fn(sluice, browser, dir);
    } finally {
      const result = await sluice.stop();
      assert.equal(result.code, options.exitCode ?? 0, result.stderr);
    }
  } finally {
    await browser.close();
    await Deno.remove(dir, { recursive: true });
  }
}

type Sluice = Awaited<ReturnType<typeof startSluice>>;
type Browser = Awaited<ReturnType<typeof launchChromium>>;

Deno.test({
  name:
    "dashboard in chromium: the numbers on the page match /stats and change as records reach a real sluice run",
  ignore: skipWithout(chromium()),
  sanitizeResources: false,
  sanitizeOps: false,
}, () =>
  withDashboard((dir) => [
    `  archive: { type: file, inputs: [ingest], path: ${dir}/archive.log }`,
    "  analysis: { type: stats, inputs: [ingest], window: 5m, service_field: service }",
  ], async (sluice, browser) => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(String(e)));
    await post(sluice.url, "checkout", 0, 40);
    await post(sluice.url, "payment-service", 0, 8, HOSTILE);

    await page.goto(`${sluice.url}/#token=${TOKEN}`);
    assert.equal(new URL(page.url()).hash, "", "the token leaves the address bar");
    const [first, stats] = await matching(page, sluice.url, 48);
    assertMatches(first, stats);
    assert.deepEqual(first.distribution, {
      checkout: { INFO: 20, WARN: 10, ERROR: 10 },
      "payment-service": { INFO: 4, WARN: 2, ERROR: 2 },
    });
    assert.equal(first.total_services, 2);
    assert.equal(first.active_traces, 24);
    assert.ok(first.recent_errors.some((e) => e.message === HOSTILE), "shown as text");
    assert.equal(await page.locator("img").count(), 0, "a record's message is never markup");
    assert.notEqual(await page.title(), "pwned");

    // Components: the live stream's counters, every component healthy, the chart drawn.
    const live = await until("the live stream", async () => {
      const now = await shown(page);
      return now?.status === "live" && now.canvases > 0 && now.components.analysis === 48
        ? now
        : undefined;
    });
    assert.deepEqual(live.components, { ingest: 48, archive: 48, analysis: 48 });
    assert.deepEqual(live.health, ["ok", "ok", "ok"]);

    // More records arrive: the page follows without a reload.
    await post(sluice.url, "inventory", 0, 12);
    await post(sluice.url, "checkout", 40, 4);
    const [second, stats2] = await matching(page, sluice.url, 64);
    assertMatches(second, stats2);
    assert.equal(second.total_services, 3);
    assert.deepEqual(second.distribution.checkout, { INFO: 22, WARN: 11, ERROR: 11 });
    assert.equal(
      (await until("the components to follow", async () => {
        const now = await shown(page);
        return now?.components.analysis === 64 ? now : undefined;
      })).components.ingest,
      64,
    );
    assert.deepEqual(problems, [], "no script errors, no CSP violations");
  }));

Deno.test({
  name: "dashboard in chromium: without a token the page asks for one, and connects with it",
  ignore: skipWithout(chromium()),
  sanitizeResources: false,
  sanitizeOps: false,
}, () =>
  withDashboard(() => [
    "  analysis: { type: stats, inputs: [ingest] }",
  ], async (sluice, browser) => {
    await post(sluice.url, "checkout", 0, 4);
    const page = await browser.newPage();
    await page.goto(sluice.url);
    await page.waitForSelector("#token-form:not([hidden])");
    assert.equal(await page.locator("#status").getAttribute("data-state"), "unauthorized");
    assert.equal(await page.locator("[data-sink]").count(), 0, "nothing shown without the token");
    await page.fill("#token-input", TOKEN);
    await page.click("#token-form button");
    const [now, stats] = await matching(page, sluice.url, 4);
    assertMatches(now, stats);
    await page.waitForSelector("#status[data-state=live]");
  }));

Deno.test({
  name: "dashboard in chromium: a failing sink's health shows the problem /ready names",
  ignore: skipWithout(chromium()),
  sanitizeResources: false,
  sanitizeOps: false,
}, () =>
  withDashboard((dir) => [
    `  archive: { type: file, inputs: [ingest], path: ${dir}/archive.log }`,
    `  broken: { module: ${FAILING_SINK}, inputs: [ingest], message: disk on fire }`,
  ], async (sluice, browser) => {
    await post(sluice.url, "checkout", 0, 4);
    const ready = await until("/ready to name the broken sink", async () => {
      const res = await fetch(`${sluice.url}/ready`);
      const body = await res.json();
      return res.status === 503 ? body : undefined;
    });
    const problem = ready.components[0].problem as string;
    assert.match(problem, /disk on fire/);
    const page = await browser.newPage();
    await page.goto(`${sluice.url}/#token=${TOKEN}`);
    const health = await until("the page to show both sinks' health", async () => {
      const cells = await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        const document: any = (globalThis as any).document;
        const cell = (id: string) =>
          document.querySelector(`tr[data-component=${id}] [data-stat=health]`);
        const broken = cell("broken");
        const archive = cell("archive");
        return broken && archive
          ? {
            broken: broken.textContent,
            brokenClass: broken.className,
            archive: archive.textContent,
          }
          : undefined;
      });
      return cells ?? undefined;
    });
    assert.deepEqual(health, { broken: problem, brokenClass: "bad", archive: "ok" });
    assert.equal(await page.locator("#no-stats").isVisible(), true, "no stats sink, said");
  }, {
    exitCode: 3, // the broken sink drops its records
    extraArgs: ["--drain-timeout", "500ms"],
  }));

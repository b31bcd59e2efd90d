// The module plugin contract end to end: config/examples/custom_plugin.yaml loads two plugins
// of its own with `module:` and records really flow through them into files.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { configure, getLogger, loadConfig, shutdown } from "../../mod.ts";
import type { Counts } from "../../config/examples/plugins/counts.ts";

const EXAMPLE = fileURLToPath(new URL("../../config/examples/custom_plugin.yaml", import.meta.url));

Deno.test("custom_plugin.yaml: module plugins validate with their own options and defaults", async () => {
  const { config } = await loadConfig(EXAMPLE, { env: {} });
  const sampled = config.processors.sampled!;
  assert.equal(sampled.type, "sample");
  assert.deepEqual(sampled.options, { every: 10, below: 30 });
  assert.deepEqual(sampled.inputs, ["app"]);
  const totals = config.sinks.totals!;
  assert.equal(totals.type, "counts");
  assert.equal(totals.level, 20);
  // The env default applies, resolved later against the config file's directory.
  assert.deepEqual(totals.options, { path: "logs/counts.json" });
  assert.equal(config.baseDir, fileURLToPath(new URL("../../config/examples", import.meta.url)));
});

Deno.test("custom_plugin.yaml: records pass the sample processor and the counts sink for real", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-custom-plugin-" });
  try {
    const pipeline = await configure(EXAMPLE, {
      env: { SAMPLED_LOG: `${dir}/sampled.log`, COUNTS_FILE: `${dir}/counts.json` },
    });
    const shop = getLogger("shop");
    const payments = getLogger("shop.payments");
    for (let i = 0; i < 100; i++) shop.info("login", { user: `u${i}` });
    payments.warn("card declined", { order: 7 });
    payments.error("gateway down", { retry: true });
    // Counted, not silently gone: 9 of every 10 info records.
    assert.equal(pipeline.metrics.sum("sampled_out_total", { component: "sampled" }), 90);
    await shutdown();

    const lines = (await Deno.readTextFile(`${dir}/sampled.log`)).trimEnd().split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((line) => [line.level, line.message, line.user ?? line.order ?? line.retry]),
      [
        ...Array.from({ length: 10 }, (_, i) => ["INFO", "login", `u${i * 10}`]),
        ["WARN", "card declined", 7],
        ["ERROR", "gateway down", true],
      ],
    );

    const counts: Counts = JSON.parse(await Deno.readTextFile(`${dir}/counts.json`));
    assert.deepEqual(counts, {
      total: 102,
      levels: { INFO: 100, WARN: 1, ERROR: 1 },
      loggers: { shop: 100, "shop.payments": 2 },
    });
  } finally {
    await shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

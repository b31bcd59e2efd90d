// The module plugin contract end to end: config/examples/custom_plugin.yaml loads two plugins
// of its own with `module:` and records really flow through them into files.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { configure, getLogger, loadConfig, shutdown } from "../../mod.ts";
import type { Counts } from "../../config/examples/plugins/counts.ts";

const EXAMPLE = fileURLToPath(new URL("../../config/examples/custom_plugin.yaml", import.meta.url));

Deno.test("custom_plugin.yaml: module plugins validate with their own options and defaults", async () => {
  const { config } = await loadConfig(EXAMPLE, { env: {} });
  const redacted = config.processors.redacted!;
  assert.equal(redacted.type, "redact");
  assert.deepEqual(redacted.options, { keys: ["password", "card_number"], mask: "***" });
  assert.deepEqual(redacted.inputs, ["app"]);
  const totals = config.sinks.totals!;
  assert.equal(totals.type, "counts");
  assert.equal(totals.level, 20);
  // The env default applies, resolved later against the config file's directory.
  assert.deepEqual(totals.options, { path: "logs/counts.json" });
  assert.equal(config.baseDir, fileURLToPath(new URL("../../config/examples", import.meta.url)));
});

Deno.test("custom_plugin.yaml: records pass the redact processor and the counts sink for real", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-custom-plugin-" });
  try {
    const pipeline = await configure(EXAMPLE, {
      env: { AUDIT_LOG: `${dir}/audit.log`, COUNTS_FILE: `${dir}/counts.json` },
    });
    const shop = getLogger("shop");
    const payments = getLogger("shop.payments");
    for (let i = 0; i < 100; i++) {
      shop.info("login", { user: `u${i}`, password: `secret-${i}` });
    }
    payments.warn("card declined", { order: { id: 7, card_number: "4111111111111111" } });
    payments.error("gateway down", { retry: true });
    assert.equal(pipeline.metrics.sum("redacted_fields_total"), 101);
    await shutdown();

    const lines = (await Deno.readTextFile(`${dir}/audit.log`)).trimEnd().split("\n")
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 102);
    assert.deepEqual(lines.slice(0, 2).map((l) => [l.user, l.password]), [
      ["u0", "***"],
      ["u1", "***"],
    ]);
    assert.deepEqual(lines[100].order, { id: 7, card_number: "***" });
    assert.equal(lines[101].retry, true);
    assert.ok(!lines.some((line) => JSON.stringify(line).includes("secret-")));

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

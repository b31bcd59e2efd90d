import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/load.ts";
import { createRecord, type LogRecord } from "../../../src/core/record.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import type { PluginContext } from "../../../src/plugin/types.ts";
import { getLogger } from "../../../src/logger/logger.ts";
import filter from "../../../plugins/processors/filter.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";

/** This processor returns one record or null, never several. */
type OneRecord = (record: LogRecord) => LogRecord | null;

function make(raw: Record<string, unknown>): OneRecord {
  const ctx = { issues: [] };
  const options = filter.options.parse(raw, [], ctx);
  assert.deepEqual(ctx.issues, []);
  return filter.create(options!, {} as PluginContext) as OneRecord;
}

const rec = (init: Partial<LogRecord>): LogRecord => createRecord({ message: "", ...init });

Deno.test("filter passes records at or above its level", () => {
  const keep = make({ level: "warn" });
  assert.equal(keep(rec({ level: 20 })), null);
  const warn = rec({ level: 30 });
  assert.equal(keep(warn), warn, "the record itself passes, unchanged");
  assert.notEqual(keep(rec({ level: 50 })), null);
});

Deno.test("filter logger uses dotted-prefix semantics: payment matches payment and payment.db, not payments", () => {
  const keep = make({ logger: "payment" });
  const pass = (logger: string) => keep(rec({ logger })) !== null;
  assert.ok(pass("payment"));
  assert.ok(pass("payment.db"));
  assert.ok(pass("payment.db.pool"));
  assert.ok(!pass("payments"));
  assert.ok(!pass("pay"));
  assert.ok(!pass(""));
  const several = make({ logger: ["api", "billing.invoices"] });
  assert.ok(several(rec({ logger: "api.v2" })) !== null);
  assert.ok(several(rec({ logger: "billing.invoices" })) !== null);
  assert.equal(several(rec({ logger: "billing" })), null);
  const root = make({ logger: "" });
  assert.ok(root(rec({ logger: "anything.at.all" })) !== null, '"" is the root: every logger');
});

Deno.test("filter fields compare as text, reach message, logger and dotted paths, and null means missing", () => {
  const keep = make({ fields: { status: 500, env: "prod" } });
  assert.ok(keep(rec({ fields: { status: 500, env: "prod" } })) !== null);
  assert.ok(
    keep(rec({ fields: { status: "500", env: "prod" } })) !== null,
    "Python peers send text",
  );
  assert.equal(keep(rec({ fields: { status: 500 } })), null, "every condition must hold");
  assert.equal(keep(rec({ fields: { status: 404, env: "prod" } })), null);
  const deep = make({ fields: { "python.module": "billing", message: "done", logger: "app" } });
  assert.ok(
    deep(rec({ logger: "app", message: "done", fields: { python: { module: "billing" } } })) !==
      null,
  );
  assert.equal(deep(rec({ logger: "app", message: "done", fields: { python: "billing" } })), null);
  const own = make({ fields: { "fields.message": "x" } });
  assert.ok(own(rec({ message: "other", fields: { message: "x" } })) !== null);
  const missing = make({ fields: { user: null } });
  assert.ok(missing(rec({})) !== null);
  assert.equal(missing(rec({ fields: { user: "ada" } })), null);
});

Deno.test("filter regex matches a field's text and invert drops what matches", () => {
  const noise = make({ regex: { message: "^health(check)?\\b" }, invert: true });
  assert.equal(noise(rec({ message: "healthcheck ok" })), null);
  assert.ok(noise(rec({ message: "order placed" })) !== null);
  const codes = make({ level: "info", regex: { code: "^5\\d\\d$" } });
  assert.ok(codes(rec({ level: 20, fields: { code: 503 } })) !== null);
  assert.equal(codes(rec({ level: 20, fields: { code: 404 } })), null);
  assert.equal(codes(rec({ level: 20, fields: {} })), null, "a missing field does not match");
  assert.equal(codes(rec({ level: 10, fields: { code: 500 } })), null);
});

Deno.test("filter rejects an invalid pattern and level with clear options errors", () => {
  const ctx = { issues: [] as { path: readonly (string | number)[]; message: string }[] };
  filter.options.parse({ level: "loud", regex: { message: "(" }, fields: { k: [1] } }, [
    "processors",
    "f",
  ], ctx);
  assert.deepEqual(ctx.issues.map((i) => [i.path.join("."), i.message]), [
    [
      "processors.f.level",
      'Expected a level (trace, debug, info, warn, error, critical), got "loud"',
    ],
    ["processors.f.fields.k", "Expected a string, number, boolean or null, got a list"],
    ["processors.f.regex.message", 'Expected a regular expression, got "("'],
  ]);
});

Deno.test("filter in a pipeline: only payment errors reach the alerts sink, counted as filtered otherwise", async () => {
  const { config, formatters } = await loadConfig({
    sources: { app: { type: "logger" } },
    processors: { errors: { type: "filter", inputs: ["app"], level: "error", logger: "payment" } },
    sinks: {
      all: { type: "memory", name: "filter-all", inputs: ["app"] },
      alerts: { type: "memory", name: "filter-alerts", inputs: ["errors"] },
    },
  });
  const pipeline = await Pipeline.create(config, { formatters });
  try {
    await pipeline.start();
    getLogger("payment.db").error("db down");
    getLogger("payment").info("paid");
    getLogger("payments").error("wrong tree");
    getLogger("payment").critical("card vault unreachable");
    assert.ok(await pipeline.flush());
    assert.deepEqual(memoryRecords("filter-alerts").map((r) => r.message), [
      "db down",
      "card vault unreachable",
    ]);
    assert.equal(memoryRecords("filter-all").length, 4);
    assert.equal(pipeline.metrics.sum("records_filtered_total", { component: "errors" }), 2);
  } finally {
    await pipeline.shutdown();
  }
});

/**
 * Slide 5, "Custom Log Handlers": a handler that inserts each record into a database and
 * posts it to an external service, printing any error.
 *
 * In Sluice, neither needs custom code: the `sqlite` sink is the database (one transaction
 * per batch, a migrated table, `sluice query` to read it back) and the `http` sink is the
 * external service (batches of NDJSON, retries with back-off, a `fallback` sink for what
 * cannot be delivered). A failure is not a `print()`: it is counted by reason in /metrics,
 * said once on stderr, and the pipeline keeps going. (A sink of your own is a `definePlugin`
 * call, see docs/plugins.md and config/examples/custom_plugin.yaml.)
 *
 * The "external service" here is a tiny HTTP server on a loopback port started by this
 * program, which prints what it receives.
 *
 * Run: `deno run -A examples/05_custom_handler/main.ts [directory]`
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { configure, getLogger, shutdown } from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-05-" });

// The external service: prints each NDJSON line it receives.
const received: string[] = [];
const service = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
  for (const line of (await request.text()).split("\n")) if (line) received.push(line);
  return new Response(null, { status: 204 });
});

await configure({
  // caller: true records the call site (file, line, function, module) on each record,
  // the slide's record.module. Off by default: it costs a stack trace per call.
  loggers: { "": { level: "info", caller: true } },
  sources: { app: { type: "logger" } },
  sinks: {
    database: { type: "sqlite", inputs: ["app"], path: `${dir}/logs.db`, table: "logs" },
    external: {
      type: "http",
      inputs: ["app"],
      url: `http://127.0.0.1:${service.addr.port}/logs`,
      preset: "ndjson", // one JSON line per record; also json_array, otlp, loki, elasticsearch
      // The slide's log_entry keys: timestamp, level, message (and the call site).
      format: { type: "json", keys: { time: "timestamp" } },
    },
  },
});

const log = getLogger("checkout");
log.info("Order placed", { order_id: "A-1001" });
log.error("Payment declined", { order_id: "A-1002" });
await shutdown(); // both sinks drained: rows committed, batches acknowledged by the service
await service.shutdown();

console.log("Database rows:");
const db = new DatabaseSync(`${dir}/logs.db`, { readOnly: true });
for (const row of db.prepare("SELECT level, logger, message, fields FROM logs ORDER BY id").all()) {
  console.log(`  ${JSON.stringify(row)}`);
}
db.close();

console.log("External service received:");
for (const line of received) {
  const { timestamp: _, caller, ...entry } = JSON.parse(line);
  console.log(`  ${JSON.stringify({ ...entry, module: caller?.module })}`);
}
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output (levels are numbers in the table: 20 INFO, 40 ERROR):
// Database rows:
//   {"level":20,"logger":"checkout","message":"Order placed","fields":"{\"order_id\":\"A-1001\"}"}
//   {"level":40,"logger":"checkout","message":"Payment declined","fields":"{\"order_id\":\"A-1002\"}"}
// External service received:
//   {"level":"INFO","logger":"checkout","message":"Order placed","order_id":"A-1001","module":"main"}
//   {"level":"ERROR","logger":"checkout","message":"Payment declined","order_id":"A-1002","module":"main"}

/**
 * Slide 12, "Results for: Microservices Logging System": the payment service of example 11,
 * printed as the slide prints it: each record with its extra context, then the metrics.
 *
 * The pipeline is a YAML file this time (`sluice.yaml` beside this file); its console sink
 * uses a formatter plugin of your own (`extra_context.ts`), and the `stats` sink's counts
 * become the slide's `Metrics Collection`.
 *
 * Run: `deno run -A examples/12_microservices_results/main.ts`
 *
 * @module
 */

import { configure, type StatsAnalysis } from "../../mod.ts";
import { processPayment } from "../11_microservices/main.ts";

await using pipeline = await configure(new URL("./sluice.yaml", import.meta.url).pathname);
await processPayment("user123", 99.99);
await pipeline.flush();

// The MetricsHandler's dictionary: "<service>.<level>" -> count, levels the slide shows.
const { service_distribution } = pipeline.stats().get("metrics") as StatsAnalysis;
const metrics: Record<string, number> = {};
for (const [service, levels] of Object.entries(service_distribution)) {
  for (const level of ["INFO", "ERROR", "WARN"]) {
    const name = level === "WARN" ? "warning" : level.toLowerCase(); // Python's name
    metrics[`${service}.${name}`] = levels[level] ?? 0;
  }
}
console.log(`Metrics Collection:\n${JSON.stringify(metrics, null, 2)}`);

// Output (ids and times differ per run):
// 2024-11-17 10:30:45,123 - payment-service - [550e8400e29b41d4a716446655440000] - Starting payment processing
// Extra context:
// - service: payment-service
// - user_id: user123
// - amount: 99.99
// - trace_id: 550e8400e29b41d4a716446655440000
// - span_id: 67e5504410b1426f
// 2024-11-17 10:30:45,134 - payment-service - [550e8400e29b41d4a716446655440000] - Payment processed successfully
// Extra context:
// - service: payment-service
// - user_id: user123
// - amount: 99.99
// - transaction_id: 8f47e594-9aa9-4a84-9974-d72c618e902a
// - trace_id: 550e8400e29b41d4a716446655440000
// - span_id: 67e5504410b1426f
// Metrics Collection:
// {
//   "payment-service.info": 2,
//   "payment-service.error": 0,
//   "payment-service.warning": 0
// }

/**
 * Slide 11, "Real-World Application: Microservices Logging System": a `MicroserviceLogger`
 * with a trace context (trace id, span id, service name) in thread-local storage, a console
 * handler that prints the trace id, and a `MetricsHandler` counting records per service and
 * level.
 *
 * In Sluice, `withSpan(name, fn)` opens a span (W3C trace context: a 32-hex trace id, a
 * 16-hex span id) and every record logged inside carries `trace_id` and `span_id`; nested
 * spans keep the trace and get their own span id with `parent_span_id`. With OpenTelemetry's
 * API in the program, Sluice picks up its active span instead. `traceparent()` is the header to
 * send downstream so the next service continues the trace. `logger.child({ service })`
 * puts the service on every record, and the `stats` sink is the MetricsHandler: counts per
 * service and level (also `sluice_log_records_total` in /metrics and `GET /stats` when the
 * server runs).
 *
 * Run: `deno run -A examples/11_microservices/main.ts`
 *
 * @module
 */

import { configure, getLogger, type StatsAnalysis, traceparent, withSpan } from "../../mod.ts";

/** The service's logger: every record says which service wrote it. */
export const serviceLogger = getLogger("payment-service").child({ service: "payment-service" });

/** process_payment: one span per payment, two records inside it. */
export async function processPayment(user_id: string, amount: number): Promise<string> {
  return await withSpan("process_payment", async () => {
    serviceLogger.info("Starting payment processing", { user_id, amount });
    await new Promise((resolve) => setTimeout(resolve, 10)); // time.sleep(1), shortened
    serviceLogger.info("Payment processed successfully", {
      user_id,
      amount,
      transaction_id: crypto.randomUUID(),
    });
    return traceparent()!; // what an outgoing request would carry in its traceparent header
  });
}

/** The slide's two handlers: console with the trace id, and metrics (a `stats` sink). */
export const microserviceConfig = {
  loggers: { "": "info" },
  sources: { app: { type: "logger" } },
  sinks: {
    console: {
      type: "console",
      inputs: ["app"],
      stream: "stdout",
      format: {
        type: "text",
        pattern: "%(asctime)s - %(name)s - [%(trace_id)s] - %(message)s",
        defaults: { trace_id: "no_trace" }, // records logged outside any span
      },
    },
    metrics: { type: "stats", inputs: ["app"], service_field: "service" },
  },
};

if (import.meta.main) {
  await using pipeline = await configure(microserviceConfig);
  const header = await processPayment("user123", 99.99);
  serviceLogger.info("Idle"); // outside the span
  await pipeline.flush();
  console.log(`traceparent for a downstream call: ${header}`);
  const { service_distribution } = pipeline.stats().get("metrics") as StatsAnalysis;
  console.log(`Metrics: ${JSON.stringify(service_distribution)}`);
}

// Output (ids are random):
// 2024-11-17 10:30:45,123 - payment-service - [4bf92f3577b34da6a3ce929d0e0e4736] - Starting payment processing
// 2024-11-17 10:30:45,134 - payment-service - [4bf92f3577b34da6a3ce929d0e0e4736] - Payment processed successfully
// 2024-11-17 10:30:45,135 - payment-service - [no_trace] - Idle
// traceparent for a downstream call: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
// Metrics: {"payment-service":{"INFO":3}}

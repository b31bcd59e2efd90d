/**
 * Trace context for everything logged inside a span: `withSpan`, `currentTrace`,
 * `traceparent`. Spans follow awaits through `AsyncLocalStorage`, as `withContext` does.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  type TraceContext,
} from "../core/traceparent.ts";
import { otelTrace, runInOtelSpan } from "./otel_span.ts";

/** The store behind {@linkcode withSpan}; loggers read it once per enabled call. */
export const spanStorage: AsyncLocalStorage<TraceContext> = new AsyncLocalStorage();

/**
 * Runs `fn` with `span` as the current span: every record logged inside carries its ids,
 * across awaits. The Hono middleware uses it with the span it starts for a request.
 *
 * @example Run inside a known span
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentTrace, runInSpan } from "./span.ts";
 * const span = { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7", trace_flags: 1 };
 * runInSpan(span, () => assert.equal(currentTrace()?.span_id, "00f067aa0ba902b7"));
 * ```
 */
export function runInSpan<T>(span: TraceContext, fn: () => T): T {
  return spanStorage.run(span, fn);
}

/**
 * A new span: a child of `parent` (same trace, `parent_span_id` set, flags kept), or the
 * root of a new sampled trace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childSpan } from "./span.ts";
 * const root = childSpan(undefined);
 * const child = childSpan(root);
 * assert.equal(child.trace_id, root.trace_id);
 * assert.equal(child.parent_span_id, root.span_id);
 * ```
 */
export function childSpan(parent: TraceContext | undefined): TraceContext {
  return parent === undefined ? { trace_id: newTraceId(), span_id: newSpanId(), trace_flags: 1 } : {
    trace_id: parent.trace_id,
    span_id: newSpanId(),
    parent_span_id: parent.span_id,
    trace_flags: parent.trace_flags,
  };
}

/**
 * Runs `fn` in a child span of the current one (or in a new trace), so that everything
 * logged inside carries `trace_id`, `span_id` and `parent_span_id`, across awaits. When
 * OpenTelemetry is registered (`@opentelemetry/api` with a tracer provider, or Deno's
 * built-in OpenTelemetry under `OTEL_DENO=true`), the span is a real OpenTelemetry span named
 * `name`, ended when `fn` returns or its promise settles; otherwise `name` is not recorded.
 * Returns what `fn` returns.
 *
 * @example Records inside a span carry its ids
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentTrace, withSpan } from "./span.ts";
 * await withSpan("checkout", async () => {
 *   const outer = currentTrace()!;
 *   await Promise.resolve();
 *   await withSpan("charge", () => {
 *     assert.equal(currentTrace()?.trace_id, outer.trace_id);
 *     assert.equal(currentTrace()?.parent_span_id, outer.span_id);
 *   });
 * });
 * assert.equal(currentTrace(), undefined);
 * ```
 */
export function withSpan<T>(name: string, fn: () => T): T {
  const own = spanStorage.getStore();
  if (own === undefined) {
    const otel = runInOtelSpan(name, fn);
    if (otel !== undefined) return otel.result;
  }
  return spanStorage.run(childSpan(own ?? otelTrace()), fn);
}

/**
 * The ids of the current span: Sluice's own (from {@linkcode withSpan} or the Hono
 * middleware), else OpenTelemetry's active span, else `undefined`.
 *
 * @example Outside any span
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentTrace } from "./span.ts";
 * assert.equal(currentTrace(), undefined);
 * ```
 */
export function currentTrace(): TraceContext | undefined {
  return spanStorage.getStore() ?? otelTrace();
}

/**
 * The `traceparent` header value for an outgoing call made in the current span, or
 * `undefined` outside any span.
 *
 * @example Propagate the trace to a downstream service
 * ```ts
 * import assert from "node:assert/strict";
 * import { traceparent, withSpan } from "./span.ts";
 * withSpan("call", () => {
 *   assert.match(traceparent()!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
 * });
 * ```
 */
export function traceparent(): string | undefined {
  const span = currentTrace();
  return span === undefined ? undefined : formatTraceparent(span);
}

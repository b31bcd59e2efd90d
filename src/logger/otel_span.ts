/**
 * OpenTelemetry pickup without loading OpenTelemetry: `@opentelemetry/api` (and Deno's
 * built-in OpenTelemetry under `OTEL_DENO=true`) registers its context manager on a global
 * symbol; when it is there, the active span's ids are read from it. Nothing is imported, so a
 * process without OpenTelemetry pays one property read per log call.
 *
 * @module
 */

import type { TraceContext } from "../core/traceparent.ts";
import { isSpanId, isTraceId } from "../core/traceparent.ts";
import { messageOf } from "../core/message_of.ts";

/** Where `@opentelemetry/api` 1.x keeps its registered globals (its `_globalThis` key). */
const OTEL_GLOBAL = Symbol.for("opentelemetry.js.api.1");
/** The context key of the active span (`createContextKey("OpenTelemetry Context Key SPAN")`). */
const SPAN_KEY = Symbol.for("OpenTelemetry Context Key SPAN");

/** The parts of an OpenTelemetry context this module uses. */
interface OtelContext {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): OtelContext;
}

/** The parts of an OpenTelemetry span this module uses. */
interface OtelSpan {
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
  end(): void;
  recordException?(error: unknown): void;
  setStatus?(status: { code: number; message?: string }): void;
  parentSpanId?: string;
  parentSpanContext?: { spanId?: string };
}

/** The registered globals of `@opentelemetry/api` this module uses. */
interface OtelGlobals {
  version?: string;
  context?: {
    active(): OtelContext;
    with<T>(context: OtelContext, fn: () => T): T;
  };
  trace?: {
    getTracer(name: string): {
      startSpan(name: string, options: undefined, context: OtelContext): OtelSpan;
    };
  };
}

function globals(): OtelGlobals | undefined {
  return (globalThis as unknown as Record<symbol, OtelGlobals | undefined>)[OTEL_GLOBAL];
}

function activeSpan(g: OtelGlobals): OtelSpan | undefined {
  try {
    const span = g.context?.active()?.getValue(SPAN_KEY) as OtelSpan | undefined;
    return typeof span?.spanContext === "function" ? span : undefined;
  } catch {
    // A broken context manager must never make a log call throw.
    return undefined;
  }
}

/** The parents of the spans withSpan started (Deno's spans do not expose their parent). */
const parents = new WeakMap<OtelSpan, string>();

function contextOf(span: OtelSpan): TraceContext | undefined {
  const ids = span.spanContext();
  // The API's non-recording placeholder span has all-zero ids: no trace.
  if (!isTraceId(ids?.traceId) || !isSpanId(ids.spanId)) return undefined;
  const parent = span.parentSpanId ?? span.parentSpanContext?.spanId ?? parents.get(span);
  return isSpanId(parent)
    ? {
      trace_id: ids.traceId,
      span_id: ids.spanId,
      parent_span_id: parent,
      trace_flags: ids.traceFlags | 0,
    }
    : { trace_id: ids.traceId, span_id: ids.spanId, trace_flags: ids.traceFlags | 0 };
}

/**
 * The ids of OpenTelemetry's active span, or `undefined` when OpenTelemetry is not
 * registered or no valid span is active.
 *
 * @example Nothing without OpenTelemetry
 * ```ts
 * import assert from "node:assert/strict";
 * import { otelTrace } from "./otel_span.ts";
 * assert.equal(otelTrace(), undefined);
 * ```
 */
export function otelTrace(): TraceContext | undefined {
  const g = globals();
  if (g === undefined) return undefined;
  const span = activeSpan(g);
  return span === undefined ? undefined : contextOf(span);
}

/**
 * Runs `fn` inside a new OpenTelemetry span named `name` (a child of the active one) and
 * ends the span when `fn` returns or its promise settles, when OpenTelemetry with a tracer
 * provider is registered. Returns `undefined` without calling `fn` otherwise.
 */
export function runInOtelSpan<T>(name: string, fn: () => T): { result: T } | undefined {
  const g = globals();
  if (g?.context === undefined || g.trace === undefined) return undefined;
  let span: OtelSpan;
  let context: OtelContext;
  try {
    const parent = g.context.active();
    span = g.trace.getTracer("sluice").startSpan(name, undefined, parent);
    if (contextOf(span) === undefined) return undefined; // a no-op provider: keep our own ids
    const outer = activeSpan(g);
    const outerIds = outer && contextOf(outer);
    if (outerIds !== undefined) parents.set(span, outerIds.span_id);
    context = parent.setValue(SPAN_KEY, span);
  } catch {
    return undefined;
  }
  const fail = (error: unknown) => {
    span.recordException?.(error);
    span.setStatus?.({ code: 2, message: messageOf(error) });
  };
  let result: T;
  try {
    result = g.context.with(context, fn);
  } catch (error) {
    fail(error);
    span.end();
    throw error;
  }
  if (result instanceof Promise) {
    result.then(() => span.end(), (error) => {
      fail(error);
      span.end();
    });
  } else span.end();
  return { result };
}

/**
 * W3C Trace Context: the `traceparent` header, its ids, and new random ids.
 *
 * @module
 */

import { fillRandom } from "./random_pool.ts";

/** The ids of one span, as records carry them (W3C Trace Context, lower-case hex). */
export interface TraceContext {
  /** 32 lower-case hex digits, never all zeros. */
  readonly trace_id: string;
  /** 16 lower-case hex digits, never all zeros. */
  readonly span_id: string;
  /** The parent span's id, when the span has one. */
  readonly parent_span_id?: string;
  /** Trace flags; bit 0 is "sampled". */
  readonly trace_flags: number;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const bytes = new Uint8Array(16);

function randomHex(length: number): string {
  // All-zero ids are invalid; 2^-64 per span id, but a loop costs nothing.
  for (;;) {
    fillRandom(bytes, 0, length);
    let out = "";
    let any = 0;
    for (let i = 0; i < length; i++) {
      out += HEX[bytes[i]!]!;
      any |= bytes[i]!;
    }
    if (any !== 0) return out;
  }
}

/**
 * A new random trace id: 32 lower-case hex digits from the system's CSPRNG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newTraceId } from "./traceparent.ts";
 * assert.match(newTraceId(), /^[0-9a-f]{32}$/);
 * ```
 */
export function newTraceId(): string {
  return randomHex(16);
}

/**
 * A new random span id: 16 lower-case hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newSpanId } from "./traceparent.ts";
 * assert.match(newSpanId(), /^[0-9a-f]{16}$/);
 * ```
 */
export function newSpanId(): string {
  return randomHex(8);
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** Whether `value` is a valid W3C trace id (32 lower-case hex digits, not all zeros). */
export function isTraceId(value: unknown): value is string {
  return typeof value === "string" && TRACE_ID.test(value) && value !== ZERO_TRACE;
}

/** Whether `value` is a valid W3C span id (16 lower-case hex digits, not all zeros). */
export function isSpanId(value: unknown): value is string {
  return typeof value === "string" && SPAN_ID.test(value) && value !== ZERO_SPAN;
}

// version "-" trace-id "-" parent-id "-" flags, then (future versions only) "-" and more.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses a `traceparent` header as W3C Trace Context level 1 says: version `00` is exactly
 * 55 characters; version `ff` is invalid; a later version may append `-…`, which is ignored;
 * all-zero ids are invalid. Returns the remote span (`span_id` is the caller's span, the
 * parent of the one you start), or `undefined` for anything malformed.
 *
 * @example Accept the spec's example, refuse a malformed header
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTraceparent } from "./traceparent.ts";
 * const parent = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * assert.equal(parent?.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.equal(parent?.span_id, "00f067aa0ba902b7");
 * assert.equal(parent?.trace_flags, 1);
 * assert.equal(parseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), undefined);
 * ```
 */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  if (typeof header !== "string") return undefined;
  const value = header.trim();
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const version = m[1]!;
  if (version === "ff") return undefined;
  if (version === "00" && m[5] !== undefined) return undefined;
  const traceId = m[2]!;
  const spanId = m[3]!;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { trace_id: traceId, span_id: spanId, trace_flags: parseInt(m[4]!, 16) };
}

/**
 * Formats a span as a version-00 `traceparent` header value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTraceparent } from "./traceparent.ts";
 * const header = formatTraceparent({
 *   trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   span_id: "00f067aa0ba902b7",
 *   trace_flags: 1,
 * });
 * assert.equal(header, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * ```
 */
export function formatTraceparent(span: TraceContext): string {
  return "00-" + span.trace_id + "-" + span.span_id + "-" + HEX[span.trace_flags & 0xff]!;
}

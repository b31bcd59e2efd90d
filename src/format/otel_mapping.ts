/**
 * The OpenTelemetry log data model's mapping of a record, shared by the `json` formatter's
 * `naming: otel` and the `http` sink's `otlp` preset, so a record reads the same in both:
 * severity numbers, nanosecond timestamps, and the `exception.*` and `code.*` attributes.
 *
 * @module
 */

import type { LogRecord, SerializedError } from "../core/record.ts";

/**
 * The OpenTelemetry severity number of a level: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17,
 * CRITICAL 21 (FATAL); levels between take the number of the level below.
 *
 * @example Map levels
 * ```ts
 * import { otelSeverity } from "./otel_mapping.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([5, 10, 20, 25, 30, 40, 50].map(otelSeverity), [1, 5, 9, 9, 13, 17, 21]);
 * ```
 */
export function otelSeverity(level: number): number {
  return level >= 50
    ? 21
    : level >= 40
    ? 17
    : level >= 30
    ? 13
    : level >= 20
    ? 9
    : level >= 10
    ? 5
    : 1;
}

/**
 * Epoch milliseconds (possibly fractional) as decimal nanoseconds, exact (no float overflow).
 *
 * @example Sub-millisecond times keep their digits
 * ```ts
 * import { otelNanos } from "./otel_mapping.ts";
 * import assert from "node:assert/strict";
 * assert.equal(otelNanos(1), "1000000");
 * assert.equal(otelNanos(1.000001), "1000001");
 * assert.equal(otelNanos(1_700_000_000_123), "1700000000123000000");
 * ```
 */
export function otelNanos(ms: number): string {
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 1_000_000);
  return (BigInt(whole) * 1_000_000n + BigInt(fraction)).toString();
}

/**
 * The `exception.stacktrace` of an error with its `cause` chain, each cause after the last
 * as Java and Python print them (`Caused by: TypeError: …`); `undefined` for an error
 * with neither a stack nor a cause.
 *
 * @example A cause after the stack
 * ```ts
 * import { stackWithCauses } from "./otel_mapping.ts";
 * import assert from "node:assert/strict";
 * const stack = stackWithCauses({ name: "Error", message: "a", stack: "Error: a", cause: "b" });
 * assert.equal(stack, "Error: a\nCaused by: b");
 * ```
 */
export function stackWithCauses(error: SerializedError): string | undefined {
  if (error.stack === undefined && error.cause === undefined) return undefined;
  let out = error.stack ?? `${error.name}: ${error.message}`;
  let cause = error.cause;
  for (let depth = 0; cause !== undefined && depth < 16; depth++) {
    if (typeof cause === "string") {
      out += "\nCaused by: " + cause;
      break;
    }
    out += "\nCaused by: " + (cause.stack ?? `${cause.name}: ${cause.message}`);
    cause = cause.cause;
  }
  return out;
}

/**
 * The attributes OpenTelemetry's semantic conventions give a record besides its fields:
 * `exception.type`, `exception.message`, `exception.stacktrace` (with the cause chain) from
 * its error, `code.file.path`, `code.line.number`, `code.function.name` from its call site;
 * in that order, as `[key, value]` pairs.
 *
 * @example An error and a call site
 * ```ts
 * import { otelAttributes } from "./otel_mapping.ts";
 * import { createRecord } from "../core/record.ts";
 * import assert from "node:assert/strict";
 * const record = createRecord({ message: "m" });
 * record.error = { name: "TypeError", message: "bad" };
 * record.caller = { file: "/app/a.ts", line: 3, column: 1, function: "f", module: "a" };
 * assert.deepEqual(otelAttributes(record), [
 *   ["exception.type", "TypeError"], ["exception.message", "bad"],
 *   ["code.file.path", "/app/a.ts"], ["code.line.number", 3], ["code.function.name", "f"],
 * ]);
 * ```
 */
export function otelAttributes(record: LogRecord): [string, string | number][] {
  const out: [string, string | number][] = [];
  const error = record.error;
  if (error !== undefined) {
    out.push(["exception.type", error.name], ["exception.message", error.message]);
    const stack = stackWithCauses(error);
    if (stack !== undefined) out.push(["exception.stacktrace", stack]);
  }
  const caller = record.caller;
  if (caller !== undefined) {
    out.push(
      ["code.file.path", caller.file],
      ["code.line.number", caller.line],
      ["code.function.name", caller.function],
    );
  }
  return out;
}

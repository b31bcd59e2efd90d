/**
 * JSON that a log call can always produce.
 *
 * @module
 */

/**
 * `JSON.stringify` that survives cycles (written `"[Circular]"`) and BigInt (written as its
 * decimal string), and gives `"null"` for a value JSON cannot hold (`undefined`, a function):
 * a record's fields come from callers and must never make a sink throw.
 *
 * @example A cycle and a BigInt
 * ```ts
 * import assert from "node:assert/strict";
 * import { safeStringify } from "./safe_stringify.ts";
 * const value: Record<string, unknown> = { n: 10n };
 * value.self = value;
 * assert.equal(safeStringify(value), '{"n":"10","self":"[Circular]"}');
 * assert.equal(safeStringify(undefined), "null");
 * ```
 */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(value, (_key, v) => {
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
      }
      return v;
    }) ?? "null";
  }
}

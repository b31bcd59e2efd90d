/**
 * Setting a key on a plain object that may come from untrusted input.
 *
 * @module
 */

/**
 * Sets `target[key] = value` as an own, enumerable property, also when `key` is
 * `"__proto__"` (plain assignment would change the object's prototype instead: a key read
 * from a pickle, a syslog message or a record must stay data).
 *
 * @example A "__proto__" key stays a key
 * ```ts
 * import { setOwn } from "./set_own.ts";
 * import assert from "node:assert/strict";
 * const out: Record<string, unknown> = {};
 * setOwn(out, "__proto__", { polluted: true });
 * assert.ok(Object.keys(out).includes("__proto__") && !("polluted" in {}));
 * ```
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}

/**
 * Reading a key that a user or a peer named.
 *
 * @module
 */

/**
 * `object[key]` when `key` is the object's own property, else `undefined`: a name such as
 * `constructor` or `toString` from a config, a format string or a record must not reach what
 * every object inherits from `Object.prototype`.
 *
 * @example An inherited name is not a value
 * ```ts
 * import { getOwn } from "./get_own.ts";
 * import assert from "node:assert/strict";
 * assert.equal(getOwn({ user: "ann" }, "user"), "ann");
 * assert.equal(getOwn({}, "constructor"), undefined);
 * assert.equal(getOwn({}, "toString"), undefined);
 * ```
 */
export function getOwn<T>(object: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

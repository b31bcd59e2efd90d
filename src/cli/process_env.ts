/**
 * A view of the process environment that reads one variable at a time.
 *
 * @module
 */

/**
 * The environment as an object whose properties read `Deno.env.get(name)` on access, so
 * `${VAR}` expansion needs `--allow-env` only for the variables a config names (where
 * `Deno.env.toObject()` needs them all).
 *
 * @example Read one variable
 * ```ts
 * import { processEnv } from "./process_env.ts";
 * import assert from "node:assert/strict";
 * Deno.env.set("SLUICE_DEMO", "on");
 * assert.ok(processEnv().SLUICE_DEMO === "on");
 * ```
 */
export function processEnv(): Readonly<Record<string, string | undefined>> {
  return new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => typeof name === "string" ? Deno.env.get(name) : undefined,
    has: (_target, name) => typeof name === "string" && Deno.env.get(name) !== undefined,
    // Expansion reads own properties only (a variable named `toString` is no function).
    getOwnPropertyDescriptor: (_target, name) => {
      const value = typeof name === "string" ? Deno.env.get(name) : undefined;
      return value === undefined
        ? undefined
        : { value, enumerable: true, configurable: true, writable: false };
    },
  });
}

/**
 * Implicit context: fields that follow a request across awaits into every record.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

/** The store behind {@linkcode withContext}; loggers read it once per enabled call. */
export const contextStorage: AsyncLocalStorage<Readonly<Record<string, unknown>>> =
  new AsyncLocalStorage();

/**
 * Runs `fn` with `fields` added to every record logged inside it, across awaits, timers
 * and promise chains. Nested calls merge, the inner value winning.
 *
 * @example Tag every record of a request
 * ```ts
 * import { getContext, withContext } from "./context.ts";
 * import assert from "node:assert/strict";
 * await withContext({ request_id: "r-1" }, async () => {
 *   await Promise.resolve();
 *   assert.ok(getContext().request_id === "r-1");
 * });
 * ```
 */
export function withContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  const outer = contextStorage.getStore();
  return contextStorage.run(outer ? { ...outer, ...fields } : { ...fields }, fn);
}

/**
 * The context fields in effect here (an empty object outside any {@linkcode withContext}).
 *
 * @example Read the context
 * ```ts
 * import { getContext } from "./context.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Object.keys(getContext()).length === 0);
 * ```
 */
export function getContext(): Readonly<Record<string, unknown>> {
  return contextStorage.getStore() ?? {};
}

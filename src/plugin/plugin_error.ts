/**
 * The error a plugin raises when it cannot be loaded or created.
 *
 * @module
 */

/**
 * A plugin failed to load or to create its component. The message names the component
 * and the state: `Cannot open sink "out": directory "logs" does not exist`.
 *
 * @example Wrap a cause
 * ```ts
 * import { PluginError } from "./plugin_error.ts";
 * import assert from "node:assert/strict";
 * const error = new PluginError('Cannot open sink "out"', { cause: new Error("EACCES") });
 * assert.ok(error.name === "PluginError");
 * ```
 */
export class PluginError extends Error {
  /** Creates the error; pass the underlying failure as `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PluginError";
  }
}

/**
 * The helper every plugin module uses to export its definition.
 *
 * @module
 */

import type { Shape } from "../schema/schema.ts";
import type { PluginDefinition, PluginKind } from "./types.ts";

/**
 * Declares a plugin. A module given as `module:` in the YAML must export one as its
 * default export (or as `plugin`).
 *
 * @example A formatter plugin that writes the message in upper case
 * ```ts
 * import { definePlugin, s } from "../../mod.ts";
 * export default definePlugin({
 *   kind: "formatter",
 *   type: "shout",
 *   description: "The message in upper case.",
 *   options: s.object({ suffix: s.string().default("!") }),
 *   create: (options) => (record) => record.message.toUpperCase() + options.suffix,
 * });
 * ```
 */
export function definePlugin<K extends PluginKind, S extends Shape>(
  definition: PluginDefinition<K, S>,
): PluginDefinition<K, S> {
  return definition;
}

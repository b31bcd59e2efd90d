/**
 * Plugin lookup by kind and type.
 *
 * @module
 */

import type { PluginDefinition, PluginKind } from "./types.ts";

/**
 * The set of plugins a config may name by `type:`.
 *
 * @example Look up a built-in
 * ```ts
 * import { Registry } from "./registry.ts";
 * import { builtins } from "../../plugins/mod.ts";
 * const registry = new Registry(builtins);
 * console.assert(registry.get("formatter", "json")?.type === "json");
 * ```
 */
export class Registry {
  readonly #byKind = new Map<PluginKind, Map<string, PluginDefinition>>();

  /** Creates a registry; a later definition of the same kind and type replaces an earlier one. */
  constructor(definitions: Iterable<PluginDefinition>) {
    for (const definition of definitions) this.add(definition);
  }

  /** Adds or replaces a definition. */
  add(definition: PluginDefinition): void {
    let map = this.#byKind.get(definition.kind);
    if (!map) this.#byKind.set(definition.kind, map = new Map());
    map.set(definition.type, definition);
  }

  /** The definition of a kind and type. */
  get<K extends PluginKind>(kind: K, type: string): PluginDefinition<K> | undefined {
    return this.#byKind.get(kind)?.get(type) as PluginDefinition<K> | undefined;
  }

  /** Every type name of a kind, sorted. */
  types(kind: PluginKind): string[] {
    return [...(this.#byKind.get(kind)?.keys() ?? [])].sort();
  }

  /** Every definition of a kind. */
  all<K extends PluginKind>(kind: K): PluginDefinition<K>[] {
    return [...(this.#byKind.get(kind)?.values() ?? [])] as PluginDefinition<K>[];
  }
}

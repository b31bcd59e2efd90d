/**
 * Plugin lookup by kind and type, loading built-ins on demand.
 *
 * @module
 */

import type { PluginDefinition, PluginKind } from "./types.ts";

/** A plugin known by kind and type before it is loaded. */
export type PluginLoader = readonly [
  kind: PluginKind,
  type: string,
  load: () => Promise<{ default: PluginDefinition }>,
];

const keyOf = (kind: PluginKind, type: string) => kind + " " + type;

/**
 * The set of plugins a config may name by `type:`. Definitions given up front are there at
 * once; loaders are imported only when a lookup asks for them: `get()` of a not yet loaded
 * type returns `undefined` and remembers it, and `loadWanted()` imports what was asked for.
 * A validator runs, loads what it wanted, and runs again.
 *
 * @example Load only what a lookup wanted
 * ```ts
 * import { Registry } from "./registry.ts";
 * import { builtinLoaders } from "../../plugins/mod.ts";
 * import assert from "node:assert/strict";
 * const registry = new Registry([], builtinLoaders);
 * assert.ok(registry.get("formatter", "json") === undefined);
 * await registry.loadWanted();
 * assert.ok(registry.get("formatter", "json")?.type === "json");
 * ```
 */
export class Registry {
  readonly #byKind = new Map<PluginKind, Map<string, PluginDefinition>>();
  readonly #loaders = new Map<string, PluginLoader>();
  readonly #wanted = new Set<string>();

  /**
   * Creates a registry. A later definition of the same kind and type replaces an earlier
   * one; `definitions` win over `loaders` of the same name (a user's plugin over a built-in).
   */
  constructor(definitions: Iterable<PluginDefinition> = [], loaders: Iterable<PluginLoader> = []) {
    for (const loader of loaders) this.#loaders.set(keyOf(loader[0], loader[1]), loader);
    for (const definition of definitions) this.add(definition);
  }

  /** Adds or replaces a definition. */
  add(definition: PluginDefinition): void {
    let map = this.#byKind.get(definition.kind);
    if (!map) this.#byKind.set(definition.kind, map = new Map());
    map.set(definition.type, definition);
  }

  /** The definition of a kind and type, if loaded (a known but unloaded one is marked wanted). */
  get<K extends PluginKind>(kind: K, type: string): PluginDefinition<K> | undefined {
    const found = this.#byKind.get(kind)?.get(type);
    if (!found && this.#loaders.has(keyOf(kind, type))) this.#wanted.add(keyOf(kind, type));
    return found as PluginDefinition<K> | undefined;
  }

  /** Imports every plugin a lookup asked for; resolves `true` when anything was loaded. */
  async loadWanted(): Promise<boolean> {
    const wanted = [...this.#wanted];
    this.#wanted.clear();
    await Promise.all(wanted.map((key) => this.#load(this.#loaders.get(key)!)));
    return wanted.length > 0;
  }

  /** Imports every plugin that has a loader (the JSON Schema and docs need them all). */
  async loadAll(): Promise<this> {
    await Promise.all([...this.#loaders.values()].map((loader) => this.#load(loader)));
    return this;
  }

  /** Every type name of a kind, loaded or not, sorted. */
  types(kind: PluginKind): string[] {
    const names = new Set(this.#byKind.get(kind)?.keys() ?? []);
    for (const [k, type] of this.#loaders.values()) if (k === kind) names.add(type);
    return [...names].sort();
  }

  /** Every loaded definition of a kind. */
  all<K extends PluginKind>(kind: K): PluginDefinition<K>[] {
    return [...(this.#byKind.get(kind)?.values() ?? [])] as PluginDefinition<K>[];
  }

  async #load([kind, type, load]: PluginLoader): Promise<void> {
    if (this.#byKind.get(kind)?.has(type)) return;
    const definition = (await load()).default;
    if (definition.kind !== kind || definition.type !== type) {
      throw new Error(
        `Built-in ${kind} "${type}" loaded a ${definition.kind} "${definition.type}"`,
      );
    }
    this.add(definition);
  }
}

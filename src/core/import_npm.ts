/**
 * Importing an npm package that Deno's module graph does not see.
 *
 * @module
 */

/**
 * Imports the npm package `specifier` (a full `npm:name@range` specifier, the range the one
 * in deno.json) when called. The specifier is a parameter, not a literal, so `deno info`,
 * `deno cache` and the graph Deno builds at start-up do not see it: importing mod.ts resolves
 * no npm package, and a config from an object, a plugin never created or a file never parsed
 * as YAML needs none in the cache. The package is fetched on first use when it is not cached
 * (unless `--cached-only`); the CLI's graph names every such package by a literal import
 * (`src/cli/npm_packages.ts`), so `deno install` and `deno cache` of the CLI cache them.
 * Needs no permission: an `npm:` import is not a read of a local file.
 *
 * `T` describes only what the caller uses, so no type of the package is imported either (a
 * type-only import puts the package in the graph too).
 *
 * @example The yaml package, loaded when needed
 * ```ts
 * import { importNpm } from "./import_npm.ts";
 * import assert from "node:assert/strict";
 * const yaml = await importNpm<{ parse(text: string): unknown }>("npm:yaml@^2.9.1");
 * assert.deepEqual(yaml.parse("level: info"), { level: "info" });
 * await assert.rejects(importNpm("./local.ts"), TypeError);
 * ```
 */
export async function importNpm<T>(specifier: string): Promise<T> {
  if (!specifier.startsWith("npm:")) {
    throw new TypeError(`Expected an npm: specifier, got "${specifier}"`);
  }
  return await import(specifier) as T;
}

/**
 * The npm packages the library loads with `importNpm()` (src/core/import_npm.ts), each named
 * here by a literal `import()`: the library's specifiers are hidden from Deno's module graph
 * (`deno info mod.ts` lists no npm package), this module puts them back into the CLI's, so
 * `deno install` and `deno cache` of src/cli/main.ts cache them and an installed `sluice`
 * runs offline. Reached only from src/cli/main.ts, never from mod.ts;
 * tests/package/lazy_import_test.ts checks that these are exactly the specifiers passed to
 * `importNpm()`.
 *
 * @module
 */

// Full npm: specifiers, as the library passes them (the ranges deno.json maps).
// deno-lint-ignore-file no-import-prefix

/**
 * Each specifier the library passes to `importNpm()`, with a literal import of it.
 *
 * @example The same module the library loads
 * ```ts
 * import { npmPackages } from "./npm_packages.ts";
 * import { importNpm } from "../core/import_npm.ts";
 * import assert from "node:assert/strict";
 * const yaml = await npmPackages["npm:yaml@^2.9.1"]!();
 * assert.equal(yaml, await importNpm("npm:yaml@^2.9.1"));
 * ```
 */
export const npmPackages: Readonly<Record<string, () => Promise<unknown>>> = {
  "npm:yaml@^2.9.1": () => import("npm:yaml@^2.9.1"),
  "npm:@nats-io/transport-node@^3.4.0": () => import("npm:@nats-io/transport-node@^3.4.0"),
  "npm:@nats-io/jetstream@^3.4.0": () => import("npm:@nats-io/jetstream@^3.4.0"),
  "npm:postgres@^3.4.9": () => import("npm:postgres@^3.4.9"),
};

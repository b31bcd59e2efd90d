/**
 * The built-in plugins, loaded on demand: a config loads only the plugins it names, so
 * start-up does not pay for the rest (crypto, network, rotation…). Adding a built-in
 * means its file, its tests, and one line here.
 *
 * @module
 */

import type { PluginDefinition } from "../src/plugin/types.ts";
import type { PluginLoader } from "../src/plugin/registry.ts";

/**
 * Every built-in plugin: its kind, its type, and how to load it.
 *
 * @example Find the built-in sinks without loading them
 * ```ts
 * import { builtinLoaders } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.ok(builtinLoaders.some(([kind, type]) => kind === "sink" && type === "file"));
 * ```
 */
export const builtinLoaders: readonly PluginLoader[] = [
  ["source", "logger", () => import("./sources/logger.ts")],
  ["source", "file", () => import("./sources/file/mod.ts")],
  ["source", "stdin", () => import("./sources/stdin.ts")],
  ["source", "http", () => import("./sources/http/mod.ts")],
  ["processor", "filter", () => import("./processors/filter.ts")],
  ["processor", "fields", () => import("./processors/fields.ts")],
  ["processor", "redact", () => import("./processors/redact/mod.ts")],
  ["processor", "throttle", () => import("./processors/throttle.ts")],
  ["processor", "sample", () => import("./processors/sample.ts")],
  ["processor", "fingers_crossed", () => import("./processors/fingers_crossed.ts")],
  ["formatter", "text", () => import("./formatters/text/mod.ts")],
  ["formatter", "json", () => import("./formatters/json/mod.ts")],
  ["formatter", "logfmt", () => import("./formatters/logfmt.ts")],
  ["formatter", "encrypted", () => import("./formatters/encrypted.ts")],
  ["sink", "console", () => import("./sinks/console.ts")],
  ["sink", "file", () => import("./sinks/file.ts")],
  ["sink", "memory", () => import("./sinks/memory.ts")],
  ["sink", "rotating_file", () => import("./sinks/rotating_file/mod.ts")],
  ["formatter", "syslog", () => import("./formatters/syslog.ts")],
  ["sink", "tcp", () => import("./sinks/tcp/mod.ts")],
  ["sink", "udp", () => import("./sinks/udp.ts")],
  ["sink", "http", () => import("./sinks/http/mod.ts")],
  ["source", "tcp", () => import("./sources/tcp.ts")],
  ["source", "udp", () => import("./sources/udp.ts")],
  ["source", "syslog", () => import("./sources/syslog.ts")],
  ["source", "python", () => import("./sources/python/mod.ts")],
  ["sink", "sqlite", () => import("./sinks/sqlite/mod.ts")],
  ["sink", "nats", () => import("./sinks/nats/mod.ts")],
  ["source", "nats", () => import("./sources/nats.ts")],
  ["sink", "postgres", () => import("./sinks/postgres/mod.ts")],
  ["sink", "stats", () => import("./sinks/stats/mod.ts")],
];

/**
 * The formatters every config loads: sinks fall back to them when creating their output,
 * when nothing can be loaded any more.
 *
 * @example The plain formatters are built-ins
 * ```ts
 * import { builtinLoaders, coreFormatterTypes } from "./mod.ts";
 * import assert from "node:assert/strict";
 * for (const type of coreFormatterTypes) {
 *   assert.ok(builtinLoaders.some(([kind, name]) => kind === "formatter" && name === type));
 * }
 * ```
 */
export const coreFormatterTypes: readonly string[] = ["json", "text", "logfmt"];

/**
 * Loads every built-in plugin definition (for the JSON Schema, docs and tests).
 *
 * @example List the built-in formatters
 * ```ts
 * import { loadBuiltins } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const builtins = await loadBuiltins();
 * assert.ok(builtins.some((p) => p.kind === "formatter" && p.type === "json"));
 * ```
 */
export async function loadBuiltins(): Promise<PluginDefinition[]> {
  return await Promise.all(builtinLoaders.map(async ([, , load]) => (await load()).default));
}

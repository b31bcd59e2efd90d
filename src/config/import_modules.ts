/**
 * The `module:` plugins a config names: finding them (a remote one only when the user allows
 * remote modules), and importing them in this process for `sluice run` and `configure()`.
 * `check`, `schema` and `permissions` load them in a sandbox instead (`plugin_sandbox.ts`).
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { messageOf } from "../core/message_of.ts";
import type { PluginDefinition } from "../plugin/types.ts";
import { isPlainObject, type Issue, type Path } from "../schema/schema.ts";

/** One `module:` specifier of a config, where it is written and what it resolves to. */
export interface ModuleReference {
  /** The specifier as written (`./plugins/counts.ts`, `https://…`). */
  specifier: string;
  /** The key path of its first `module:` key. */
  path: Path;
  /** The URL it resolves to (a relative path against the config's directory). */
  url: string;
}

/**
 * Whether a specifier is fetched from elsewhere rather than read from this machine: every URL
 * scheme but `file:` and `data:` (`https:`, `http:`, `npm:`, `jsr:` …).
 *
 * @example
 * ```ts
 * import { isRemoteModule } from "./import_modules.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isRemoteModule("https://example.com/plugin.ts"));
 * assert.ok(!isRemoteModule("./plugin.ts") && !isRemoteModule("file:///srv/plugin.ts"));
 * ```
 */
export function isRemoteModule(specifier: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^(file|data):/i.test(specifier) &&
    !/^[a-z]:[\\/]/i.test(specifier);
}

/**
 * Every `module:` plugin the config names (components and formatters), each once. A remote
 * one is an issue at its `module:` key unless `allowRemote` (the `--allow-remote-modules`
 * flag): fetching it would run code that nobody on this machine has read.
 *
 * @example A remote module is refused unless allowed
 * ```ts
 * import { findModules } from "./import_modules.ts";
 * import type { Issue } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const raw = { sinks: { a: { module: "./a.ts" }, b: { module: "https://example.com/b.ts" } } };
 * const issues: Issue[] = [];
 * const found = findModules(raw, "/srv", false, issues);
 * assert.deepEqual(found.map((m) => m.url), ["file:///srv/a.ts"]);
 * assert.deepEqual(issues[0]?.path, ["sinks", "b", "module"]);
 * assert.equal(findModules(raw, "/srv", true, []).length, 2);
 * ```
 */
export function findModules(
  raw: unknown,
  baseDir: string,
  allowRemote: boolean,
  issues: Issue[],
): ModuleReference[] {
  const found = new Map<string, Path>();
  const walk = (value: unknown, path: Path) => {
    if (!isPlainObject(value)) return;
    if (typeof value.module === "string" && value.module !== "" && !found.has(value.module)) {
      found.set(value.module, [...path, "module"]);
    }
    for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
  };
  if (isPlainObject(raw)) {
    for (const section of ["sources", "processors", "sinks"]) walk(raw[section], [section]);
  }
  const out: ModuleReference[] = [];
  for (const [specifier, path] of found) {
    if (isRemoteModule(specifier) && !allowRemote) {
      issues.push({
        path,
        message: `Plugin module "${specifier}" is remote; Sluice fetches and runs a remote ` +
          `module only when remote modules are allowed`,
        hint: "pass --allow-remote-modules (allowRemoteModules: true in loadConfig and " +
          "configure), or download the module and name its local path",
      });
      continue;
    }
    const url = /^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^[a-z]:[\\/]/i.test(specifier)
      ? specifier
      : pathToFileURL(isAbsolute(specifier) ? specifier : resolve(baseDir, specifier)).href;
    out.push({ specifier, path, url });
  }
  return out;
}

/** Imports every `module:` plugin the config names, here, with this process's permissions. */
export async function importModules(
  references: readonly ModuleReference[],
  issues: Issue[],
): Promise<Map<string, PluginDefinition>> {
  const modules = new Map<string, PluginDefinition>();
  for (const { specifier, path, url } of references) {
    let namespace: Record<string, unknown>;
    try {
      namespace = await import(url);
    } catch (error) {
      issues.push({ path, message: moduleError(specifier, error) });
      continue;
    }
    const definition = definitionIn(namespace);
    if (!definition) {
      issues.push(notAPlugin(specifier, path));
      continue;
    }
    modules.set(specifier, definition);
  }
  return modules;
}

/** The plugin definition a module exports (`default`, or `plugin`), if it is one. */
export function definitionIn(namespace: Record<string, unknown>): PluginDefinition | undefined {
  const definition = (namespace.default ?? namespace.plugin) as
    | Partial<PluginDefinition>
    | undefined;
  if (
    !definition || typeof definition !== "object" || typeof definition.create !== "function" ||
    typeof definition.type !== "string" ||
    !["source", "processor", "formatter", "sink"].includes(String(definition.kind)) ||
    typeof definition.options?.parse !== "function"
  ) return undefined;
  return definition as PluginDefinition;
}

/** The issue of a module whose exports hold no plugin definition. */
export function notAPlugin(specifier: string, path: Path): Issue {
  return {
    path,
    message: `Plugin module "${specifier}" has no plugin definition as its default export`,
    hint: "export default definePlugin({ kind, type, description, options, create })",
  };
}

/**
 * Why a plugin module did not import. Deno reports a syntax error with the code of a missing
 * module; its message says `SyntaxError: …` and ends `at file:///…:line:col`.
 */
export function moduleError(specifier: string, error: unknown): string {
  const text = messageOf(error);
  if (/^Module not found/.test(text)) {
    return `Cannot load plugin module "${specifier}": no such module`;
  }
  const syntax = /^SyntaxError: (.*)/.exec(text);
  if (syntax) {
    const at = /\bat (\S+):(\d+):(\d+)\s*$/.exec(text);
    const where = at
      ? ` at ${at[1]!.startsWith("file:") ? fileURLToPath(at[1]!) : at[1]}:${at[2]}:${at[3]}`
      : "";
    return `Cannot load plugin module "${specifier}": syntax error${where}: ${syntax[1]!.trim()}`;
  }
  if (/^Could not find npm package/.test(text)) {
    return `Cannot load plugin module "${specifier}": ${stripColour(firstLine(text))}`;
  }
  if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
    return `Cannot load plugin module "${specifier}": no such module`;
  }
  return `Cannot load plugin module "${specifier}": ${firstLine(text)}`;
}

function stripColour(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}

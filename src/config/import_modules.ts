/**
 * Importing the `module:` plugins a config names.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { messageOf } from "../core/message_of.ts";
import type { PluginDefinition } from "../plugin/types.ts";
import { isPlainObject, type Issue, type Path } from "../schema/schema.ts";

/** Imports every `module:` plugin the config names (components and formatters). */
export async function importModules(
  raw: unknown,
  baseDir: string,
  issues: Issue[],
): Promise<Map<string, PluginDefinition>> {
  const found = new Map<string, Path>();
  const walk = (value: unknown, path: Path) => {
    if (!isPlainObject(value)) return;
    if (typeof value.module === "string" && !found.has(value.module)) {
      found.set(value.module, [...path, "module"]);
    }
    for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
  };
  if (isPlainObject(raw)) {
    for (const section of ["sources", "processors", "sinks"]) walk(raw[section], [section]);
  }
  const modules = new Map<string, PluginDefinition>();
  for (const [specifier, path] of found) {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(specifier)
      ? specifier
      : pathToFileURL(isAbsolute(specifier) ? specifier : resolve(baseDir, specifier)).href;
    let namespace: Record<string, unknown>;
    try {
      namespace = await import(url);
    } catch (error) {
      issues.push({ path, message: moduleError(specifier, error) });
      continue;
    }
    const definition = (namespace.default ?? namespace.plugin) as
      | Partial<PluginDefinition>
      | undefined;
    if (
      !definition || typeof definition !== "object" || typeof definition.create !== "function" ||
      typeof definition.type !== "string" ||
      !["source", "processor", "formatter", "sink"].includes(String(definition.kind)) ||
      typeof definition.options?.parse !== "function"
    ) {
      issues.push({
        path,
        message: `Plugin module "${specifier}" has no plugin definition as its default export`,
        hint: "export default definePlugin({ kind, type, description, options, create })",
      });
      continue;
    }
    modules.set(specifier, definition as PluginDefinition);
  }
  return modules;
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
  if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
    return `Cannot load plugin module "${specifier}": no such module`;
  }
  return `Cannot load plugin module "${specifier}": ${firstLine(text)}`;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}

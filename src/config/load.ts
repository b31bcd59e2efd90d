/**
 * Loading a config: read, parse YAML with positions, expand `${VAR}`, import `module:`
 * plugins, validate, and position every problem at `file:line:col`.
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document } from "yaml";
import { builtins } from "../../plugins/mod.ts";
import type { FormatterLookup } from "../pipeline/pipeline.ts";
import { Registry } from "../plugin/registry.ts";
import type { PluginDefinition } from "../plugin/types.ts";
import { isPlainObject, type Issue, type Path } from "../schema/schema.ts";
import { ConfigError, type ConfigProblem } from "./config_error.ts";
import { expandEnv } from "./env.ts";
import type { ResolvedConfig } from "./types.ts";
import { validateConfig } from "./validate.ts";

/** Options of {@linkcode loadConfig}. */
export interface LoadOptions {
  /** Variables for `${VAR}` expansion; the process environment by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Extra plugin definitions besides the built-ins. */
  plugins?: readonly PluginDefinition[];
  /** Where relative paths resolve for an object config; the current directory by default. */
  baseDir?: string;
}

/** A validated config and what the pipeline needs to build it. */
export interface LoadedConfig {
  /** The resolved config. */
  config: ResolvedConfig;
  /** Finds the formatter definitions the config names. */
  formatters: FormatterLookup;
  /** The file it came from, or `<object>`. */
  file: string;
}

interface Located {
  file: string;
  doc?: Document;
  lines?: LineCounter;
}

/**
 * Loads a config from a YAML file path, or validates an object. Throws a
 * {@linkcode ConfigError} listing every problem, each at `file:line:col` with its key path.
 *
 * @example Validate an object config
 * ```ts
 * import { loadConfig } from "./load.ts";
 * const { config } = await loadConfig({
 *   sources: { app: { type: "logger" } },
 *   sinks: { out: { type: "memory", inputs: ["app"] } },
 * });
 * console.assert(config.sinks.out?.inputs[0] === "app");
 * ```
 */
export async function loadConfig(
  source: string | Record<string, unknown>,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  if (typeof source !== "string") {
    return await validateLoaded(
      source,
      { file: "<object>" },
      options.baseDir ?? Deno.cwd(),
      options,
    );
  }
  const file = source;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "file not found"
      : (error as Error).message;
    throw new ConfigError([{ file, path: "", message: `Cannot read config: ${reason}` }], {
      cause: error,
    });
  }
  return await parseConfigText(text, file, options);
}

/**
 * Parses and validates YAML text as if it were the file `file`.
 *
 * @example Report an unknown key with its position
 * ```ts
 * import { parseConfigText } from "./load.ts";
 * import { ConfigError } from "./config_error.ts";
 * try {
 *   await parseConfigText("sinks:\n  out: { type: memory, levle: info }\n", "demo.yaml");
 * } catch (error) {
 *   console.assert(error instanceof ConfigError && error.message.startsWith("demo.yaml:2:"));
 * }
 * ```
 */
export async function parseConfigText(
  text: string,
  file: string,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((error) => {
      const pos = lines.linePos(error.pos[0]);
      return {
        file,
        line: pos.line,
        col: pos.col,
        path: "",
        message: `Invalid YAML: ${firstLine(error.message)}`,
      };
    }));
  }
  const raw = doc.toJS({ maxAliasCount: 100 });
  return await validateLoaded(raw, { file, doc, lines }, dirname(resolve(file)), options);
}

async function validateLoaded(
  raw: unknown,
  where: Located,
  baseDir: string,
  options: LoadOptions,
): Promise<LoadedConfig> {
  const issues: Issue[] = [];
  const expanded = expandEnv(raw, options.env ?? Deno.env.toObject(), [], issues);
  const modules = await importModules(expanded, baseDir, issues);
  const registry = new Registry([...builtins, ...(options.plugins ?? [])]);
  const config = validateConfig(expanded, { registry, modules, baseDir }, issues);
  if (!config || issues.length > 0) throw new ConfigError(position(issues, where));
  const formatters: FormatterLookup = (spec) =>
    spec.module !== undefined
      ? modules.get(spec.module) as PluginDefinition<"formatter"> | undefined
      : registry.get("formatter", spec.type);
  return { config, formatters, file: where.file };
}

/** Imports every `module:` plugin the config names (components and formatters). */
async function importModules(
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
      issues.push({
        path,
        message: `Cannot load plugin module "${specifier}": ${firstLine((error as Error).message)}`,
      });
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
        message:
          `Plugin module "${specifier}" must export a definition made with definePlugin() as its default export`,
      });
      continue;
    }
    modules.set(specifier, definition as PluginDefinition);
  }
  return modules;
}

function position(issues: readonly Issue[], where: Located): ConfigProblem[] {
  const problems = issues.map((issue) => {
    const problem: ConfigProblem = {
      file: where.file,
      path: issue.path.map(String).join("."),
      message: issue.message,
    };
    if (issue.hint !== undefined) problem.hint = issue.hint;
    if (where.doc && where.lines) {
      const offset = offsetOf(where.doc, issue.path, issue.atKey ?? false);
      if (offset !== undefined) {
        const pos = where.lines.linePos(offset);
        problem.line = pos.line;
        problem.col = pos.col;
      }
    }
    return problem;
  });
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** The source offset of the value (or key) at `path`, or of the deepest existing ancestor. */
function offsetOf(doc: Document, path: Path, atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (!pair) return offset;
      if (atKey && i === path.length - 1) return rangeStart(pair.key) ?? offset;
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else return offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}

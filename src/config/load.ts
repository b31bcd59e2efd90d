/**
 * Loading a config: read, parse YAML with positions, expand `${VAR}`, import `module:`
 * plugins, validate, and position every problem at `file:line:col`.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { builtinLoaders, coreFormatterTypes } from "../../plugins/mod.ts";
import type { FormatterLookup } from "../plugin/types.ts";
import { Registry } from "../plugin/registry.ts";
import type { PluginDefinition } from "../plugin/types.ts";
import type { Issue } from "../schema/schema.ts";
import { ConfigError, type ConfigProblem, formatProblem } from "./config_error.ts";
import { concealExpanded, expandEnv, type Expansion } from "./env.ts";
import type { ResolvedConfig } from "./types.ts";
import { validateConfig } from "./validate.ts";
import { messageOf } from "../core/message_of.ts";
import { decodeConfig } from "./decode_config.ts";
import { renderPath } from "./render_path.ts";
import type { Locate } from "./yaml_document.ts";
import { findModules, importModules } from "./import_modules.ts";
import { type PluginSandbox, sandboxSession } from "./plugin_sandbox.ts";
import { getOwn } from "../core/get_own.ts";

/** Options of {@linkcode loadConfig}. */
export interface LoadOptions {
  /** Variables for `${VAR}` expansion; the process environment by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Extra plugin definitions besides the built-ins. */
  plugins?: readonly PluginDefinition[];
  /**
   * Where relative paths (and `module:` specifiers) resolve: by default the config file's
   * directory, or the current directory for an object config.
   */
  baseDir?: string;
  /**
   * Whether files the config names must exist now (TLS certificates and keys, key and
   * credentials files such as `key_file`, `hash_key_file`, `auth.creds_file`): `sluice check`
   * and `sluice run` say so; the default leaves it to the component that opens them, so a
   * config can be validated on a machine that lacks the deployment's files.
   */
  requireFiles?: boolean;
  /**
   * Whether a `module:` may name a remote module (`https:`, `npm:`, `jsr:` …), which is
   * fetched and run: off by default, so that a config alone never makes Sluice run code from
   * elsewhere (`--allow-remote-modules` on the command line).
   */
  allowRemoteModules?: boolean;
  /**
   * Load `module:` plugins in this sandbox, a process without permissions, instead of
   * importing them here with this process's permissions (`check`, `schema`, `permissions`).
   */
  sandbox?: PluginSandbox;
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
  locate?: Locate;
}

/**
 * Loads a config from a YAML file path, or validates an object. Throws a
 * {@linkcode ConfigError} listing every problem, each at `file:line:col` with its key path.
 *
 * @example Validate an object config
 * ```ts
 * import { loadConfig } from "./load.ts";
 * import assert from "node:assert/strict";
 * const { config } = await loadConfig({
 *   sources: { app: { type: "logger" } },
 *   sinks: { out: { type: "memory", inputs: ["app"] } },
 * });
 * assert.ok(config.sinks.out?.inputs[0] === "app");
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
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : messageOf(error);
    throw new ConfigError([{ file, path: "", message: `Cannot read config: ${reason}` }], {
      cause: error,
    });
  }
  return await parseConfigText(decodeConfig(bytes, file), file, options);
}

/**
 * Parses and validates YAML text as if it were the file `file`.
 *
 * @example Report an unknown key with its position
 * ```ts
 * import { parseConfigText } from "./load.ts";
 * import { ConfigError } from "./config_error.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(
 *   parseConfigText("sinks:\n  out: { type: memory, levle: info }\n", "demo.yaml"),
 *   (error) => error instanceof ConfigError && error.message.startsWith("demo.yaml:2:"),
 * );
 * ```
 */
export async function parseConfigText(
  text: string,
  file: string,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  const baseDir = options.baseDir ?? dirname(resolve(file));
  const { parseYaml } = await import("./yaml_document.ts");
  const { value, issues, locate } = parseYaml(text, file);
  if (issues.length > 0) throw new ConfigError(position(issues, { file, locate }));
  return await validateLoaded(value, { file, locate }, baseDir, options);
}

async function validateLoaded(
  raw: unknown,
  where: Located,
  baseDir: string,
  options: LoadOptions,
): Promise<LoadedConfig> {
  const env = options.env ?? Deno.env.toObject();
  const envIssues: Issue[] = [];
  const fromEnvironment = new Set<string>();
  const expansions = new Map<string, Expansion>();
  const expanded = expandEnv(
    raw,
    env,
    [],
    envIssues,
    fromEnvironment,
    expansions,
  );
  const issues: Issue[] = [];
  const references = findModules(expanded, baseDir, options.allowRemoteModules ?? false, issues);
  const sandbox = options.sandbox ? sandboxSession(options.sandbox) : undefined;
  const modules = sandbox
    ? await sandbox.load(references, issues)
    : await importModules(references, issues);
  // The plain formatters are always there: sinks fall back to them at creation, when nothing
  // can be loaded any more. A user's plugins come last and win.
  const registry = new Registry(options.plugins ?? [], builtinLoaders);
  for (const type of coreFormatterTypes) registry.get("formatter", type);
  await registry.loadWanted();
  // Built-ins load on demand: validate, import the plugins the config named, validate again.
  let config: ResolvedConfig | undefined;
  let passIssues: Issue[];
  do {
    // A module that did not load is an issue already: the layers that need every component
    // (a source that reaches no sink) then stay quiet instead of blaming its absence.
    passIssues = [...issues];
    config = validateConfig(
      expanded,
      {
        registry,
        modules,
        baseDir,
        fromEnvironment,
        requireFiles: options.requireFiles ?? false,
        env: (name) => getOwn(env, name),
      },
      passIssues,
    );
  } while ((await registry.loadWanted()) || (await sandbox?.answerWanted()));
  issues.splice(0, issues.length, ...passIssues);
  if (config && issues.length === 0 && envIssues.length === 0) {
    await sandbox?.settle(config, issues);
  }
  if (!config || issues.length > 0 || envIssues.length > 0) {
    // A value with an unexpanded variable fails its own check too: report the variable only.
    const unexpanded = new Set(envIssues.map((issue) => renderPath(issue.path)));
    const rest = issues.filter((issue) => !unexpanded.has(renderPath(issue.path)));
    concealExpanded(rest, expansions);
    throw new ConfigError(position([...envIssues, ...rest], where));
  }
  const names = new Set([...expansions.values()].flatMap((e) => e.names));
  config.environment = [...names].map((name) => ({ name, value: getOwn(env, name) ?? "" }));
  const formatters: FormatterLookup = (spec) =>
    spec.module !== undefined
      ? modules.get(spec.module) as PluginDefinition<"formatter"> | undefined
      : registry.get("formatter", spec.type);
  return { config, formatters, file: where.file };
}

function position(issues: readonly Issue[], where: Located): ConfigProblem[] {
  const seen = new Set<string>();
  const problems = issues.map((issue) => {
    const problem: ConfigProblem = {
      file: where.file,
      path: renderPath(issue.path),
      message: issue.message,
    };
    if (issue.hint !== undefined) problem.hint = issue.hint;
    const pos = where.locate?.(issue.path, issue.atKey ?? false);
    if (pos) {
      problem.line = pos.line;
      problem.col = pos.col;
    }
    return problem;
  }).filter((problem) => {
    const key = formatProblem(problem);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

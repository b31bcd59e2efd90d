/**
 * Loading a config: read, parse YAML with positions, expand `${VAR}`, import `module:`
 * plugins, validate, and position every problem at `file:line:col`.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from "yaml";
import type { Document, YAMLError } from "yaml";
import { builtinLoaders, coreFormatterTypes } from "../../plugins/mod.ts";
import type { FormatterLookup } from "../plugin/types.ts";
import { Registry } from "../plugin/registry.ts";
import type { PluginDefinition } from "../plugin/types.ts";
import type { Issue, Path } from "../schema/schema.ts";
import { ConfigError, type ConfigProblem, formatProblem } from "./config_error.ts";
import { concealExpanded, expandEnv, type Expansion } from "./env.ts";
import type { ResolvedConfig } from "./types.ts";
import { validateConfig } from "./validate.ts";
import { messageOf } from "../core/message_of.ts";
import { decodeConfig } from "./decode_config.ts";
import { importModules } from "./import_modules.ts";

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
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const baseDir = options.baseDir ?? dirname(resolve(file));
  const syntax = doc.errors[0];
  if (syntax) {
    // Later syntax errors are almost always echoes of the first: report that one clearly.
    const { offset, message, path = [] } = describeYamlError(syntax, text, doc);
    const pos = lines.linePos(offset);
    throw new ConfigError([{
      file,
      line: pos.line,
      col: pos.col,
      path: renderPath(path),
      message,
    }]);
  }
  if (doc.contents === null) {
    // Nothing but comments or blank lines: `run` would start a pipeline that does nothing.
    throw new ConfigError([{
      file,
      line: 1,
      col: 1,
      path: "",
      message: "The config is empty (only comments or blank lines)",
      hint: "declare a source and a sink, such as `sources: { app: { type: logger } }` and " +
        "`sinks: { out: { type: console } }`",
    }]);
  }
  const unresolved: Issue[] = [];
  visit(doc, {
    Alias(_key, node, ancestors) {
      if (node.resolve(doc) === undefined) {
        unresolved.push({
          path: pathOf(ancestors, node),
          message:
            `Invalid YAML: alias "*${node.source}" refers to no anchor; define "&${node.source}" before it`,
        });
      }
    },
  });
  if (unresolved.length > 0) {
    throw new ConfigError(position(unresolved, { file, doc, lines }));
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError([{
      file,
      path: "",
      message: `Invalid YAML: ${firstLine(messageOf(error))}`,
    }], { cause: error });
  }
  return await validateLoaded(raw, { file, doc, lines }, baseDir, options);
}

/** A syntax error in words a config author acts on, at the offset that shows the cause. */
function describeYamlError(
  error: YAMLError,
  text: string,
  doc: Document,
): { offset: number; message: string; path?: Path } {
  const offset = error.pos[0];
  const raw = firstLine(error.message);
  switch (error.code) {
    case "DUPLICATE_KEY": {
      const path = keyPathAt(doc.contents, offset, []) ?? [];
      const key = path.length > 0 ? String(path[path.length - 1]) : keyAt(text, offset);
      return {
        offset,
        path,
        message: `Duplicate key "${key}"; a key may appear only once in a mapping`,
      };
    }
    case "MULTIPLE_DOCS":
      return {
        offset,
        message: "Invalid YAML: a config is a single document; remove this `---` and what follows",
      };
    case "TAB_AS_INDENT":
      return { offset, message: "Invalid YAML: a tab is used for indentation; indent with spaces" };
    case "MISSING_CHAR": {
      const quote = /closing "quote/.test(raw) ? '"' : /closing 'quote/.test(raw) ? "'" : "";
      if (quote) {
        const open = openingQuote(text, offset, quote);
        const kind = quote === '"' ? "double" : "single";
        return {
          offset: open ?? offset,
          message: `Invalid YAML: the ${kind}-quoted string starting here is never closed`,
        };
      }
      return { offset, message: `Invalid YAML: ${raw}` };
    }
    case "BAD_INDENT":
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY": {
      if (raw.startsWith("Flow")) return { offset, message: `Invalid YAML: ${raw}` };
      if (raw.startsWith("Nested mappings")) {
        const spansLines = doc.errors.some((e) =>
          e.code === "MULTILINE_IMPLICIT_KEY" && e.pos[0] === offset
        );
        if (!spansLines) {
          return {
            offset,
            message:
              "Invalid YAML: a mapping cannot start on the same line as its key; put it on the next line, indented, or write it as { key: value }",
          };
        }
        // `key: value` followed by a line indented deeper: point at that line.
        return {
          offset: nextContentLine(text, offset) ?? offset,
          message:
            "Invalid YAML: bad indentation: this line is indented more than the key above it, whose value is already given",
        };
      }
      const at = skipSpaces(text, offset);
      if (raw.startsWith("A block sequence") && text[at] === "-") {
        return {
          offset: at,
          message:
            "Invalid YAML: bad indentation: this list item does not line up with the items above it",
        };
      }
      return { offset: at, message: `Invalid YAML: bad indentation: ${lowerFirst(raw)}` };
    }
    default:
      return { offset, message: `Invalid YAML: ${raw}` };
  }
}

/** The offset of the quote that opens the unclosed string ending at `end`. */
function openingQuote(text: string, end: number, quote: string): number | undefined {
  for (let i = Math.min(end, text.length) - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    if (quote === '"' && text[i - 1] === "\\") continue;
    if (quote === "'" && text[i - 1] === "'") {
      i--; // an escaped '' inside the string
      continue;
    }
    return i;
  }
  return undefined;
}

function skipSpaces(text: string, offset: number): number {
  while (text[offset] === " ") offset++;
  return offset;
}

/** The offset of the first character of the next line that is neither blank nor a comment. */
function nextContentLine(text: string, offset: number): number | undefined {
  let at = text.indexOf("\n", offset);
  while (at !== -1) {
    const start = skipSpaces(text, at + 1);
    if (start < text.length && text[start] !== "\n" && text[start] !== "#") return start;
    at = text.indexOf("\n", start);
  }
  return undefined;
}

function keyAt(text: string, offset: number): string {
  return /^["']?([^:"'\n]*)/.exec(text.slice(offset))?.[1]?.trim() ?? "";
}

/** The path of the mapping key that starts at `offset`. */
function keyPathAt(node: unknown, offset: number, path: Path): Path | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      const segment = String(key);
      if (rangeStart(pair.key) === offset) return [...path, segment];
      const inner = keyPathAt(pair.value, offset, [...path, segment]);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const inner = keyPathAt(node.items[i], offset, [...path, i]);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The key path of `node` given its ancestors (as `visit` reports them). */
function pathOf(ancestors: readonly unknown[], node: unknown): Path {
  const path: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
    else if (isMap(parent)) {
      // visit passes the Pair between a map and its value.
      continue;
    } else if (child !== undefined && isPair(parent)) {
      const key = isScalar(parent.key) ? parent.key.value : parent.key;
      if (parent.value === child) path.push(String(key));
    }
  }
  return path;
}

function isPair(value: unknown): value is { key: unknown; value: unknown } {
  return typeof value === "object" && value !== null && "key" in value && "value" in value &&
    !isAlias(value);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

async function validateLoaded(
  raw: unknown,
  where: Located,
  baseDir: string,
  options: LoadOptions,
): Promise<LoadedConfig> {
  const envIssues: Issue[] = [];
  const fromEnvironment = new Set<string>();
  const expansions = new Map<string, Expansion>();
  const expanded = expandEnv(
    raw,
    options.env ?? Deno.env.toObject(),
    [],
    envIssues,
    fromEnvironment,
    expansions,
  );
  const issues: Issue[] = [];
  const modules = await importModules(expanded, baseDir, issues);
  // The plain formatters are always there: sinks fall back to them at creation, when nothing
  // can be loaded any more. A user's plugins come last and win.
  const registry = new Registry(options.plugins ?? [], builtinLoaders);
  for (const type of coreFormatterTypes) registry.get("formatter", type);
  await registry.loadWanted();
  // Built-ins load on demand: validate, import the plugins the config named, validate again.
  let config: ResolvedConfig | undefined;
  let passIssues: Issue[];
  do {
    passIssues = [];
    config = validateConfig(expanded, { registry, modules, baseDir, fromEnvironment }, passIssues);
  } while (await registry.loadWanted());
  issues.push(...passIssues);
  if (!config || issues.length > 0 || envIssues.length > 0) {
    // A value with an unexpanded variable fails its own check too: report the variable only.
    const unexpanded = new Set(envIssues.map((issue) => renderPath(issue.path)));
    const rest = issues.filter((issue) => !unexpanded.has(renderPath(issue.path)));
    concealExpanded(rest, expansions);
    throw new ConfigError(position([...envIssues, ...rest], where));
  }
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
    if (where.doc && where.lines) {
      const offset = offsetOf(where.doc, issue.path, issue.atKey ?? false);
      if (offset !== undefined) {
        const pos = where.lines.linePos(offset);
        problem.line = pos.line;
        problem.col = pos.col;
      }
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

/** `sinks.out.inputs[0]`; keys that are empty or hold dots or spaces are quoted. */
function renderPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = /^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment);
      out += out === "" ? key : `.${key}`;
    }
  }
  return out;
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

/**
 * What the plugin sandbox's two sides say to each other (`plugin_sandbox.ts` in the parent,
 * `sandbox_child.ts` in the child): JSON lines, every answer prefixed with
 * {@linkcode SANDBOX_LINE} so that a plugin's own output on stdout is told apart.
 *
 * @module
 */

import type { PluginKind, PluginPermissions } from "../plugin/types.ts";
import type { FormatterSpec, Issue, Path } from "../schema/schema.ts";

/** The prefix of each answer line on the child's stdout. */
export const SANDBOX_LINE = "\u001esluice-sandbox ";

/** The type a `format:` value has in the child until the parent resolves it. */
export const FORMAT_PLACEHOLDER = "\u0000format";

/** Where a module's JSON Schema refers to a formatter (the parent puts its own reference there). */
export const FORMATTER_SCHEMA_MARK: Readonly<Record<string, unknown>> = {
  $comment: "sluice-sandbox formatter",
};

/** What the child found in one module: its definition's serializable parts, or why not. */
export interface ModuleDescription {
  /** The `module:` value. */
  specifier: string;
  /** Why it did not import (`moduleError`'s message). */
  error?: string;
  /** It did not import because `--cached-only` kept Deno from fetching it (or what it imports). */
  notCached?: true;
  /** It imported, but exports no plugin definition. */
  notAPlugin?: true;
  /** The definition's kind. */
  kind?: PluginKind;
  /** The definition's type. */
  type?: string;
  /** Its description. */
  description?: string;
  /** Whether it declares `writesSync`. */
  writesSync?: boolean;
  /** Whether it declares `needsServer`. */
  needsServer?: boolean;
  /** Whether it declares `permissions()`. */
  permissions?: boolean;
  /** Its options as JSON Schema, with {@linkcode FORMATTER_SCHEMA_MARK} for formatters. */
  jsonSchema?: Record<string, unknown>;
}

/** Parse a component's mapping with a module plugin's options schema. */
export interface ParseRequest {
  /** The module. */
  specifier: string;
  /** The component's mapping (or a formatter's), after `${VAR}` expansion. */
  spec: Record<string, unknown>;
  /** Its key path. */
  path: Path;
  /** Framework keys the schema accepts without parsing. */
  keys: readonly string[];
  /** The paths whose values came wholly from `${VAR}` references. */
  env: Path[];
}

/** The child's answer to a {@linkcode ParseRequest}. */
export interface ParseAnswer {
  /** Every issue, at its key path. */
  issues: Issue[];
  /** Set when the options parsed: the child keeps them under this number. */
  handle?: number;
  /** The parsed options as JSON, `format:` values as placeholders. */
  value?: Record<string, unknown>;
  /** Each `format:` value the options hold, at its absolute key path, unresolved. */
  formats: { path: Path; value: unknown }[];
}

/** After validation: one component (or formatter) whose permissions and creation are wanted. */
export interface SettleItem {
  /** The parsed options' handle. */
  handle: number;
  /** The resolved formatters, at their key paths relative to the options. */
  formats: { path: Path; spec: FormatterSpec }[];
  /** What `permissions()` and `create()` get. */
  context: { id: string; baseDir: string; dataDir: string };
  /** Whether to call `create()` and dispose what it made. */
  create: boolean;
}

/** The child's answer to a {@linkcode SettleItem}. */
export interface SettleAnswer {
  /** What `permissions()` returned. */
  permissions?: PluginPermissions;
  /** What `permissions()` threw. */
  permissionsError?: string;
  /** What `create()` threw, unless it was a permission Deno refused. */
  createError?: string;
}

/**
 * Puts `value` at `path` inside `target` (where a resolved formatter replaces a placeholder).
 *
 * @example
 * ```ts
 * import { setAt } from "./sandbox_protocol.ts";
 * import assert from "node:assert/strict";
 * const options = { outputs: [{ format: "placeholder" }] };
 * setAt(options, ["outputs", 0, "format"], { type: "json", options: {} });
 * assert.deepEqual(options.outputs[0], { format: { type: "json", options: {} } });
 * ```
 */
export function setAt(target: Record<string, unknown>, path: Path, value: unknown): void {
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
}

/**
 * What the plugin sandbox's two sides say to each other (`plugin_sandbox.ts` in the parent,
 * `sandbox_child.ts` in the child): JSON lines. The parent's first line on the child's stdin
 * is a fresh secret (hex), which the child reads before it imports any plugin; every answer on
 * the child's stdout is then `SANDBOX_LINE`, the HMAC-SHA256 of its JSON under that secret
 * (hex), a space and the JSON, which holds `seq`, the answer's number (0, 1, …). A plugin's
 * own output on stdout, however it imitates an answer, has no valid proof and is not one.
 * Besides the answers, the child says `busy` (the module it loads, the settle item it is on)
 * and `took` (it read the request in flight), so that the parent blames the end of the
 * process on what was running, not on the request it was waiting for.
 *
 * @module
 */

import type { PluginKind, PluginPermissions } from "../plugin/types.ts";
import type { FormatterSpec, Issue, Path } from "../schema/schema.ts";

/** The prefix of each answer line on the child's stdout. */
export const SANDBOX_LINE = "\u001esluice-sandbox ";

/** The bytes of the secret the parent sends the child (256 bits). */
export const SECRET_BYTES = 32;

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

/** Keys a key path from the child may never step through or set: they reach prototypes. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

function isContainer(value: unknown): value is Record<string | number, unknown> {
  if (Array.isArray(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isStep(node: Record<string | number, unknown>, key: unknown, last: boolean): boolean {
  if (Array.isArray(node)) {
    return typeof key === "number" && Number.isInteger(key) && key >= 0 && key < node.length;
  }
  if (typeof key !== "string" || FORBIDDEN_KEYS.has(key)) return false;
  // The last key may be new (a plugin's value need not hold the placeholder itself).
  return last || Object.hasOwn(node, key);
}

/**
 * Whether {@linkcode setAt} can put a value at `path` inside `target`: a non-empty list of
 * keys, each but the last an own property, every node on the way a plain mapping or a list
 * (an integer index within it), and no `__proto__`, `constructor` or `prototype`. The child
 * (a plugin's `parse()`) chooses the paths, so the parent checks them before it writes.
 *
 * @example
 * ```ts
 * import { canSetAt } from "./sandbox_protocol.ts";
 * import assert from "node:assert/strict";
 * const options = { outputs: [{ format: "placeholder" }] };
 * assert.equal(canSetAt(options, ["outputs", 0, "format"]), true);
 * assert.equal(canSetAt(options, ["constructor", "prototype", "polluted"]), false);
 * assert.equal(canSetAt(options, ["missing", "format"]), false);
 * ```
 */
export function canSetAt(target: unknown, path: unknown): boolean {
  if (!Array.isArray(path) || path.length === 0) return false;
  let node = target;
  for (let i = 0; i < path.length; i++) {
    if (!isContainer(node) || !isStep(node, path[i], i === path.length - 1)) return false;
    if (i < path.length - 1) node = node[path[i] as string | number];
  }
  return true;
}

/**
 * Puts `value` at `path` inside `target` (where a resolved formatter replaces a placeholder);
 * throws a `TypeError` for a path {@linkcode canSetAt} refuses, and writes nothing then.
 *
 * @example
 * ```ts
 * import { setAt } from "./sandbox_protocol.ts";
 * import assert from "node:assert/strict";
 * const options = { outputs: [{ format: "placeholder" }] };
 * setAt(options, ["outputs", 0, "format"], { type: "json", options: {} });
 * assert.deepEqual(options.outputs[0], { format: { type: "json", options: {} } });
 * assert.throws(() => setAt(options, ["constructor", "prototype", "polluted"], 1), TypeError);
 * assert.equal(({} as Record<string, unknown>).polluted, undefined);
 * ```
 */
export function setAt(target: Record<string, unknown>, path: Path, value: unknown): void {
  if (!canSetAt(target, path)) {
    throw new TypeError(`Cannot set a value at key path ${JSON.stringify(path)}`);
  }
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
}

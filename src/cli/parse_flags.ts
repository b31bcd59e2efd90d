/**
 * Flag parsing for commands: `node:util`'s `parseArgs`, strict, with its errors turned into
 * {@linkcode UsageError}s.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "./usage_error.ts";
import { messageOf } from "../core/message_of.ts";
import { closest } from "../schema/closest.ts";

/** A flag: `--name VALUE` (string) or `--name` (boolean). */
export interface FlagSpec {
  /** `string` takes a value, `boolean` does not. */
  type: "string" | "boolean";
  /** A one-letter alias. */
  short?: string;
  /** Whether it may repeat (values collect into an array). */
  multiple?: boolean;
}

/** Parsed flags and positional arguments. */
export interface ParsedFlags {
  /** Flag values by name. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Arguments that are not flags. */
  positionals: string[];
}

/**
 * Parses `args` strictly: an unknown flag (with the closest known one, when it is a plausible
 * typo) or a missing value throws a `UsageError`.
 *
 * @example Parse --config
 * ```ts
 * import { parseFlags } from "./parse_flags.ts";
 * import assert from "node:assert/strict";
 * const { values } = parseFlags(["--config", "sluice.yaml"], { config: { type: "string" } });
 * assert.ok(values.config === "sluice.yaml");
 * assert.throws(
 *   () => parseFlags(["--confg", "sluice.yaml"], { config: { type: "string" } }),
 *   /Unknown option '--confg' \(did you mean '--config'\?\)/,
 * );
 * ```
 */
export function parseFlags(
  args: string[],
  options: Record<string, FlagSpec>,
  positionals = false,
): ParsedFlags {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals });
    return {
      values: parsed.values as ParsedFlags["values"],
      positionals: parsed.positionals,
    };
  } catch (error) {
    let message = messageOf(error).split("\n")[0]!;
    const unknown = /^Unknown option '(--[^'=]+)/.exec(message)?.[1];
    const hint = unknown && closest(unknown, Object.keys(options).map((name) => `--${name}`));
    if (hint) message += ` (did you mean '${hint}'?)`;
    throw new UsageError(message, { cause: error });
  }
}

/**
 * Where a command looks for its config when neither `--config` nor `SLUICE_CONFIG` names one,
 * in order: the current directory, then the system-wide place a package or a systemd unit
 * puts it.
 */
export const DEFAULT_CONFIG_PATHS: readonly string[] = ["./sluice.yaml", "/etc/sluice/sluice.yaml"];

/** `SLUICE_CONFIG`, when it is set and may be read (`--allow-env=SLUICE_CONFIG`). */
function configFromEnv(): string | undefined {
  const granted = Deno.permissions.querySync({ name: "env", variable: "SLUICE_CONFIG" });
  if (granted.state !== "granted") return undefined;
  return Deno.env.get("SLUICE_CONFIG") || undefined;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    // Missing, or not readable under this process's permissions: not a config to use.
    return false;
  }
}

/**
 * The config file a command uses: `--config FILE`, else the `SLUICE_CONFIG` variable, else the
 * first of {@linkcode DEFAULT_CONFIG_PATHS} that exists; a `UsageError` when there is none.
 *
 * @example --config comes first
 * ```ts
 * import { requireConfig } from "./parse_flags.ts";
 * import assert from "node:assert/strict";
 * assert.ok(requireConfig({ config: "a.yaml" }) === "a.yaml");
 * ```
 */
export function requireConfig(values: ParsedFlags["values"]): string {
  const file = values.config;
  if (typeof file === "string" && file !== "") return file;
  const fromEnv = configFromEnv();
  if (fromEnv !== undefined) return fromEnv;
  const found = DEFAULT_CONFIG_PATHS.find(exists);
  if (found !== undefined) return found;
  throw new UsageError(
    `Missing --config FILE: SLUICE_CONFIG is not set and none of ${
      DEFAULT_CONFIG_PATHS.join(", ")
    } exists`,
  );
}

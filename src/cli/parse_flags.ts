/**
 * Flag parsing for commands: `node:util`'s `parseArgs`, strict, with its errors turned into
 * {@linkcode UsageError}s.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "./usage_error.ts";
import { messageOf } from "../core/message_of.ts";

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
 * Parses `args` strictly: an unknown flag or a missing value throws a `UsageError`.
 *
 * @example Parse --config
 * ```ts
 * import { parseFlags } from "./parse_flags.ts";
 * import assert from "node:assert/strict";
 * const { values } = parseFlags(["--config", "sluice.yaml"], { config: { type: "string" } });
 * assert.ok(values.config === "sluice.yaml");
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
    throw new UsageError(messageOf(error).split("\n")[0]!, { cause: error });
  }
}

/**
 * The `--config FILE` value of parsed flags; a `UsageError` when it is missing.
 *
 * @example
 * ```ts
 * import { requireConfig } from "./parse_flags.ts";
 * import assert from "node:assert/strict";
 * assert.ok(requireConfig({ config: "a.yaml" }) === "a.yaml");
 * ```
 */
export function requireConfig(values: ParsedFlags["values"]): string {
  const file = values.config;
  if (typeof file !== "string" || file === "") throw new UsageError("Missing --config FILE");
  return file;
}

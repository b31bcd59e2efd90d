/**
 * Validation issues: a key path, a message naming the value, a did-you-mean.
 *
 * @module
 */

import { closest } from "./closest.ts";

/** A key path into the config, such as `["sinks", "file", "max_bytes"]`. */
export type Path = readonly (string | number)[];

/** One validation problem, positioned later by the config loader. */
export interface Issue {
  /** Where the problem is. */
  path: Path;
  /** What is wrong, in sentence case, naming the value. */
  message: string;
  /** A suggestion such as `did you mean "max_bytes"?`. */
  hint?: string;
  /** Points at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
}

/** Describes a value for an error message: its type and, for scalars, the value itself. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Uint8Array) return "binary data";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
    case "number":
    case "boolean":
      return String(value);
    case "object":
      return "a mapping";
    case "undefined":
      return "nothing";
    default:
      return typeof value;
  }
}

/**
 * The issue for a name that matches nothing: a did-you-mean when one candidate is close,
 * otherwise the list of valid names (so a message never lists a set that grows with the
 * plugins when a suggestion already says what to write).
 *
 * @example An unknown key with a close match
 * ```ts
 * import { unknownName } from "./issue.ts";
 * import assert from "node:assert/strict";
 * const issue = unknownName("key", "paht", ["sinks", "out", "paht"], ["path", "format"], true);
 * assert.ok(issue.message === 'Unknown key "paht"' && issue.hint === 'did you mean "path"?');
 * ```
 */
export function unknownName(
  what: string,
  name: string,
  path: Path,
  candidates: readonly string[],
  atKey = false,
): Issue {
  const hint = closest(name, candidates);
  const issue: Issue = {
    path,
    message: hint || candidates.length === 0
      ? `Unknown ${what} "${name}"`
      : `Unknown ${what} "${name}"; expected one of ${candidates.join(", ")}`,
  };
  if (hint) issue.hint = `did you mean "${hint}"?`;
  if (atKey) issue.atKey = true;
  return issue;
}

/** Whether `value` is a plain mapping (not null, not a list). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

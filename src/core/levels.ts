/**
 * Severity levels, numbered as in Python's `logging` so that records from Python
 * peers keep their meaning: TRACE 5, DEBUG 10, INFO 20, WARN 30, ERROR 40, CRITICAL 50.
 *
 * @module
 */

/**
 * The level numbers. A logger or sink set to a level passes records at that level or above.
 *
 * @example Compare levels
 * ```ts
 * import { Level } from "./levels.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Level.ERROR > Level.WARN);
 * ```
 */
export const Level = {
  NOTSET: 0,
  TRACE: 5,
  DEBUG: 10,
  INFO: 20,
  WARN: 30,
  ERROR: 40,
  CRITICAL: 50,
} as const;

/** A level name as written in YAML and accepted by {@linkcode parseLevel}. */
export type LevelName = "trace" | "debug" | "info" | "warn" | "error" | "critical";

/** The level names accepted in configuration, lower case, most verbose first. */
export const LEVEL_NAMES: readonly LevelName[] = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "critical",
];

// A Map, not an object literal: "constructor" or "toString" from input must not be a level.
const BY_NAME = new Map<string, number>(Object.entries({
  notset: 0,
  trace: 5,
  debug: 10,
  info: 20,
  warn: 30,
  warning: 30,
  error: 40,
  critical: 50,
  fatal: 50,
}));

// Indexed by level number so that formatting a level name is an array load, not a lookup chain.
const NAMES: string[] = [];
for (let n = 0; n <= 60; n++) {
  NAMES.push(
    n >= 50
      ? "CRITICAL"
      : n >= 40
      ? "ERROR"
      : n >= 30
      ? "WARN"
      : n >= 20
      ? "INFO"
      : n >= 10
      ? "DEBUG"
      : n >= 5
      ? "TRACE"
      : "NOTSET",
  );
}

/**
 * Parses a level name (any case; `warning` and `fatal` are aliases) or a number.
 * Returns `undefined` for anything else so callers can report the error with its path.
 *
 * @example Parse names and numbers
 * ```ts
 * import { parseLevel } from "./levels.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseLevel("WARNING") === 30);
 * assert.ok(parseLevel(25) === 25);
 * assert.ok(parseLevel("loud") === undefined);
 * ```
 */
export function parseLevel(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value <= 100 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  const exact = BY_NAME.get(value);
  if (exact !== undefined) return exact;
  const key = value.trim().toLowerCase();
  const named = BY_NAME.get(key);
  if (named !== undefined) return named;
  if (/^\d+$/.test(key)) return parseLevel(Number(key));
  return undefined;
}

/**
 * The upper-case name of a level number; numbers between the named levels take the
 * name of the level below them (25 is INFO).
 *
 * @example Name a level
 * ```ts
 * import { levelName } from "./levels.ts";
 * import assert from "node:assert/strict";
 * assert.ok(levelName(40) === "ERROR");
 * ```
 */
export function levelName(level: number): string {
  return NAMES[level > 60 ? 60 : level < 0 ? 0 : level | 0] ?? "NOTSET";
}

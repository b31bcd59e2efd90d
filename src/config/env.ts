/**
 * `${VAR}` and `${VAR:-default}` expansion in config strings.
 *
 * @module
 */

import { isPlainObject, type Issue, type Path } from "../schema/schema.ts";
import { getOwn } from "../core/get_own.ts";

/** A string made of nothing but `${VAR}` references (no defaults), commas and spaces. */
const ONLY_REFERENCES = /^[\s,]*(\$\{[A-Za-z_][A-Za-z0-9_]*\}[\s,]*)+$/;

/** The key {@linkcode expandEnv} records a path under in its `fromEnvironment` set. */
export function pathKey(path: Path): string {
  return JSON.stringify(path);
}

const PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g;

/**
 * Expands variables in every string of a parsed config, reporting each unset variable
 * (without a default) and each malformed reference as an issue at its path. `${VAR}` is
 * the variable's value (an empty value included); `${VAR:-default}` uses the default when
 * the variable is unset or empty; `$$` is a literal `$`; a `$` before anything else is
 * kept as it is. Paths whose whole value came from variables are added to
 * `fromEnvironment` (as {@linkcode pathKey}), so secrets can be told from literals.
 *
 * @example Expand with a default
 * ```ts
 * import { expandEnv } from "./env.ts";
 * import type { Issue } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const issues: Issue[] = [];
 * const out = expandEnv({ path: "${DIR:-logs}/app.log" }, {}, [], issues);
 * assert.ok((out as { path: string }).path === "logs/app.log" && issues.length === 0);
 * ```
 */
export function expandEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: Path,
  issues: Issue[],
  fromEnvironment?: Set<string>,
): unknown {
  if (typeof value === "string") {
    if (!value.includes("$")) return value;
    if (fromEnvironment && ONLY_REFERENCES.test(value)) fromEnvironment.add(pathKey(path));
    return value.replace(
      PATTERN,
      (match, name: string | undefined, fallback: string | undefined) => {
        if (match === "$$") return "$";
        if (name === undefined) {
          issues.push({
            path,
            message: `Malformed variable reference "${match}"`,
            hint: "write ${NAME} or ${NAME:-default}, and $$ for a literal $",
          });
          return match;
        }
        const found = getOwn(env, name);
        if (fallback !== undefined) return found === undefined || found === "" ? fallback : found;
        if (found !== undefined) return found;
        issues.push({
          path,
          message: `Environment variable "${name}" is not set`,
          hint: `set it, or give a default with \${${name}:-value}`,
        });
        return match;
      },
    );
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => expandEnv(item, env, [...path, i], issues, fromEnvironment));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = expandEnv(item, env, [...path, key], issues, fromEnvironment);
    }
    return out;
  }
  return value;
}

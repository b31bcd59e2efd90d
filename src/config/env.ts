/**
 * `${VAR}` and `${VAR:-default}` expansion in config strings.
 *
 * @module
 */

import type { Issue, Path } from "../schema/schema.ts";

const PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands variables in every string of a parsed config, reporting each unset variable
 * (without a default) as an issue at its path. `$$` is a literal `$`.
 *
 * @example Expand with a default
 * ```ts
 * import { expandEnv } from "./env.ts";
 * const issues = [];
 * const out = expandEnv({ path: "${DIR:-logs}/app.log" }, {}, [], issues);
 * console.assert((out as { path: string }).path === "logs/app.log" && issues.length === 0);
 * ```
 */
export function expandEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: Path,
  issues: Issue[],
): unknown {
  if (typeof value === "string") {
    if (!value.includes("$")) return value;
    return value.replace(
      PATTERN,
      (match, name: string | undefined, fallback: string | undefined) => {
        if (match === "$$") return "$";
        const found = env[name!];
        if (found !== undefined && found !== "") return found;
        if (fallback !== undefined) return fallback;
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
    return value.map((item, i) => expandEnv(item, env, [...path, i], issues));
  }
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = expandEnv(item, env, [...path, key], issues);
    }
    return out;
  }
  return value;
}

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
  expansions?: Map<string, Expansion>,
): unknown {
  if (typeof value === "string") {
    if (!value.includes("$")) return value;
    if (fromEnvironment && ONLY_REFERENCES.test(value)) fromEnvironment.add(pathKey(path));
    const names: string[] = [];
    const out = value.replace(
      PATTERN,
      (match, name: string | undefined, fallback: string | undefined) => {
        if (name !== undefined && getOwn(env, name) !== undefined) names.push(name);
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
    if (expansions && names.length > 0) {
      expansions.set(pathKey(path), {
        names: [...new Set(names)],
        value: out,
        whole: /^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/.test(value),
      });
    }
    return out;
  }
  if (Array.isArray(value)) {
    return value.map((item, i) =>
      expandEnv(item, env, [...path, i], issues, fromEnvironment, expansions)
    );
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = expandEnv(item, env, [...path, key], issues, fromEnvironment, expansions);
    }
    return out;
  }
  return value;
}

/** A string that took text from the environment: the variables and the expanded text. */
export interface Expansion {
  /** The variables whose values it holds. */
  names: string[];
  /** The text after expansion. */
  value: string;
  /** Whether the text is one variable's value and nothing else. */
  whole: boolean;
}

/**
 * Rewrites issues so that no text that came from a variable is shown: a value taken from
 * `${VAR}` may be a secret, so the message names the variable instead. At an expanded path
 * the value is replaced in every form a message quotes it (whole, JSON-quoted, shortened);
 * elsewhere any expanded text of 4 characters or more is.
 *
 * @example The value of ${TOKEN} is named, not shown
 * ```ts
 * import { concealExpanded, expandEnv, type Expansion } from "./env.ts";
 * import type { Issue } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const expansions = new Map<string, Expansion>();
 * expandEnv({ port: "${PORT}" }, { PORT: "hunter2" }, [], [], undefined, expansions);
 * const issues: Issue[] = [{ path: ["port"], message: 'Expected an integer, got "hunter2"' }];
 * concealExpanded(issues, expansions);
 * assert.equal(issues[0]!.message, "Expected an integer, got the value of ${PORT}");
 * ```
 */
export function concealExpanded(issues: Issue[], expansions: ReadonlyMap<string, Expansion>): void {
  if (expansions.size === 0) return;
  const named = (e: Expansion) =>
    e.whole
      ? `the value of \${${e.names[0]}}`
      : `a value made from ${e.names.map((n) => `\${${n}}`).join(", ")}`;
  const forms = (text: string) => {
    const short = text.length > 60 ? text.slice(0, 57) + "..." : text;
    return [...new Set([JSON.stringify(text), JSON.stringify(short), text])]
      .filter((form) => form !== "" && form !== '""');
  };
  const everywhere = [...expansions.values()].filter((e) => e.value.length >= 4);
  const conceal = (text: string, own: Expansion | undefined): string => {
    if (own) { for (const form of forms(own.value)) text = text.split(form).join(named(own)); }
    for (const e of everywhere) {
      for (const form of forms(e.value)) {
        if (form.length >= 4) text = text.split(form).join(named(e));
      }
    }
    return text;
  };
  for (const issue of issues) {
    const own = expansions.get(pathKey(issue.path));
    issue.message = conceal(issue.message, own);
    if (issue.hint !== undefined) issue.hint = conceal(issue.hint, own);
  }
}

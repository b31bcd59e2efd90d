/**
 * Naming environment variables instead of showing their values in diagnostics.
 *
 * @module
 */

/** A variable a config took a value from. */
export interface EnvValue {
  /** The variable's name. */
  name: string;
  /** Its value. */
  value: string;
}

/**
 * Values this short are replaced only where they stand alone (not inside a longer word or
 * number), so `LEVEL=info` does not turn "information" into "${LEVEL}rmation"; longer ones
 * are replaced wherever they appear.
 */
const WORD_ONLY_BELOW = 8;
/** Values shorter than this are never replaced: they say nothing and would match anywhere. */
const SHORTEST = 4;

/**
 * Makes a function that rewrites a diagnostic so that no variable's value appears in it:
 * each value, also as it appears percent-encoded in a URL and escaped in JSON, becomes
 * `${NAME}`. A value taken from `${VAR}` may be a secret (a password in a URL, a token), and
 * an error that quotes it would leak it to whoever reads stderr or the logs.
 *
 * @example A password in a URL is named, not shown
 * ```ts
 * import { createConcealer } from "./conceal_values.ts";
 * import assert from "node:assert/strict";
 * const conceal = createConcealer([{ name: "NATS_PASSWORD", value: "p@ss/hunter2" }]);
 * assert.equal(
 *   conceal("Cannot connect to nats://app:p%40ss%2Fhunter2@10.0.0.5:4222"),
 *   "Cannot connect to nats://app:${NATS_PASSWORD}@10.0.0.5:4222",
 * );
 * ```
 */
export function createConcealer(values: readonly EnvValue[]): (text: string) => string {
  const replacements: { form: string; name: string }[] = [];
  for (const { name, value } of values) {
    if (value.length < SHORTEST) continue;
    const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
    for (const form of forms) replacements.push({ form, name: `\${${name}}` });
  }
  if (replacements.length === 0) return (text) => text;
  // Longest first: a value holding another value is replaced whole.
  replacements.sort((a, b) => b.form.length - a.form.length);
  const pattern = new RegExp(
    replacements.map(({ form }) => {
      const escaped = form.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return form.length < WORD_ONLY_BELOW ? `(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])` : escaped;
    }).join("|"),
    "g",
  );
  const names = new Map(replacements.map(({ form, name }) => [form, name]));
  return (text) => text.replace(pattern, (match) => names.get(match) ?? match);
}

/**
 * A cheap test of whether a redactor could change anything in a record whose fields are still
 * their JSON text (`JsonFieldsRecord`), so that such records pass unparsed.
 *
 * @module
 */

import { BUILTIN_PATTERNS, type BuiltinPatternName } from "./patterns.ts";

/** The tests {@linkcode textSuspect} returns. */
export interface TextSuspect {
  /** Whether the patterns or paths could change fields whose JSON text is `json`. */
  fields(json: string): boolean;
  /** Whether the patterns could change a message (exact: the patterns' own search). */
  message(text: string): boolean;
  /** Whether field paths are checked (their keys are matched case-insensitively). */
  readonly keys: boolean;
}

/**
 * Returns a test that is `true` for every JSON text (object members as `JSON.stringify`
 * writes them, without a backslash) in which the built-in `patterns` or the field `paths`
 * could redact anything, or `undefined` when no such test exists (a path of wildcards only).
 * Without a backslash each string value, key and number is written as its own text, so a
 * pattern that finds a secret in one finds it in the text (the characters around a value in
 * the text, `"` `,` `:`, look to every built-in's lookarounds like the value's ends); and a
 * path's last named segment must be a key of the text. A `true` may be wrong (the text is then
 * parsed and redacted as usual); a `false` never is.
 *
 * @example A path's key or a pattern's secret makes the text suspect
 * ```ts
 * import { textSuspect } from "./text_check.ts";
 * import assert from "node:assert/strict";
 * const suspect = textSuspect(["email"], ["password", "card.number"])!;
 * assert.equal(suspect.fields('"user":"ada","status":200'), false);
 * assert.equal(suspect.fields('"Password":"x"'), true);
 * assert.equal(suspect.fields('"card":{"number":1}'), true);
 * assert.equal(suspect.fields('"to":"ada@example.com"'), true);
 * assert.equal(suspect.message("mail ada@example.com"), true);
 * assert.equal(textSuspect([], ["**"]), undefined);
 * ```
 */
export function textSuspect(
  patterns: readonly BuiltinPatternName[],
  paths: readonly string[],
): TextSuspect | undefined {
  const parts = patterns.map((name) => BUILTIN_PATTERNS[name].source);
  const keys: string[] = [];
  for (const path of paths) {
    // A digit-only segment also matches an array index, which is no key of the text.
    const named = path.split(".").filter((segment) =>
      segment !== "*" && segment !== "**" && !/^\d+$/.test(segment)
    );
    const last = named[named.length - 1];
    if (last === undefined) return undefined;
    // A segment's `*` is any run of key characters; keys here hold no `"` or backslash.
    keys.push('"' + last.toLowerCase().split("*").map(escapeRegExp).join('[^"]*') + '":');
  }
  const patternTest = parts.length > 0 ? new RegExp(parts.join("|")) : undefined;
  const keyTest = keys.length > 0 ? new RegExp(keys.join("|"), "i") : undefined;
  return {
    fields: (json) => (patternTest?.test(json) ?? false) || (keyTest?.test(json) ?? false),
    message: (text) => patternTest?.test(text) ?? false,
    keys: keyTest !== undefined,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

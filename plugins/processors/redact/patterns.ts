/**
 * The secret patterns the `redact` processor finds in free text, and the scanner that
 * replaces them in one pass.
 *
 * @module
 */

/** The names of the built-in patterns. */
export type BuiltinPatternName =
  | "credit_card"
  | "us_ssn"
  | "email"
  | "jwt"
  | "bearer_token"
  | "aws_access_key"
  | "url_password";

/** A built-in pattern: its regular expression source, what it finds, an example. */
export interface BuiltinPattern {
  /**
   * The pattern's source (no flags, no capturing groups). A match may include context
   * around the secret (`://user:` before a URL password); `secret` says which part goes.
   */
  source: string;
  /** What it finds and what it leaves alone. */
  description: string;
  /** Text it redacts, and the part that goes. */
  example: { text: string; secret: string };
}

/**
 * The built-in patterns. Each starts with a literal or a narrow character class of its own
 * (a digit, `@`, `eyJ`, `B`, `A`, `://`), so one combined scan is linear, skips most
 * positions, and no two patterns compete for the same start.
 */
export const BUILTIN_PATTERNS: Readonly<Record<BuiltinPatternName, BuiltinPattern>> = {
  credit_card: {
    source: String.raw`(?<!\d)\d(?:[ \-]?\d){12,}(?!\d)`,
    description:
      "Card numbers: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check (order numbers and ids that fail it survive).",
    example: { text: "paid with 4111 1111 1111 1111", secret: "4111 1111 1111 1111" },
  },
  us_ssn: {
    source: String.raw`(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)`,
    description: "US social security numbers written as 123-45-6789 (impossible ranges skipped).",
    example: { text: "ssn 123-45-6789", secret: "123-45-6789" },
  },
  aws_access_key: {
    source: String
      .raw`(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])(?<![A-Za-z0-9]....)[A-Z0-9]{16}(?![A-Za-z0-9])`,
    description: "AWS access key ids (AKIA…, ASIA…, 20 characters).",
    example: { text: "key AKIAIOSFODNN7EXAMPLE", secret: "AKIAIOSFODNN7EXAMPLE" },
  },
  jwt: {
    source: String.raw`eyJ(?<![\w\-]...)[\w\-]{2,}\.ey[\w\-]{2,}\.[\w\-]*`,
    description: "JSON Web Tokens (three base64url parts, the first two JSON objects).",
    example: {
      text: "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
      secret: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
    },
  },
  bearer_token: {
    source: String.raw`\b[Bb][Ee][Aa][Rr][Ee][Rr][ \t]{1,8}[A-Za-z0-9._~+/\-]{8,}=*`,
    description: 'The token after "Bearer " (8 or more token characters; the word itself stays).',
    example: { text: "Authorization: Bearer abcdef0123456789", secret: "abcdef0123456789" },
  },
  email: {
    source: String
      .raw`(?<=[\w.%+\-])@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b`,
    description: "Email addresses.",
    example: { text: "mail ada@example.com now", secret: "ada@example.com" },
  },
  url_password: {
    source: String
      .raw`://(?<=\b[A-Za-z][A-Za-z0-9+.\-]{0,30}://)[^\s:/?#@]{0,256}:[^\s/?#@]+(?=@)`,
    description: "The password in a URL's user information (scheme://user:password@host).",
    example: { text: "postgres://app:s3cr3t@db:5432/app", secret: "s3cr3t" },
  },
};

/** Characters of an email's local part (the match starts at `@` and extends left over them). */
const LOCAL_PART = /[\w.%+\-]/;

/** The names of the built-in patterns. */
export const BUILTIN_PATTERN_NAMES: readonly BuiltinPatternName[] = Object.keys(
  BUILTIN_PATTERNS,
) as BuiltinPatternName[];

/** A user's own pattern: a name for metrics and a regular expression. */
export interface CustomPattern {
  /** The name counted in metrics. */
  name: string;
  /** The regular expression source. */
  regex: string;
  /** Flags besides `g` (for example `i`). */
  flags?: string;
}

/** Makes the replacement for a secret; `pattern` is the name of the pattern that found it. */
export type Replacer = (secret: string, pattern: string) => string;

/**
 * Whether a string of digits passes the Luhn check.
 *
 * @example A test card number passes, a neighbour fails
 * ```ts
 * import { luhnValid } from "./patterns.ts";
 * import assert from "node:assert/strict";
 * assert.ok(luhnValid("4111111111111111") && !luhnValid("4111111111111112"));
 * ```
 */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * Finds card numbers in a run of digit groups: the longest stretch of whole groups with
 * 13–19 digits that passes the Luhn check, from left to right. A run of one group is
 * checked as a whole, so long ids are never cut into card-sized windows.
 */
function replaceCards(run: string, replace: Replacer): string {
  const groups: { start: number; end: number; digits: string }[] = [];
  const re = /\d+/g;
  for (let m = re.exec(run); m; m = re.exec(run)) {
    groups.push({ start: m.index, end: m.index + m[0].length, digits: m[0] });
  }
  let out = "";
  let last = 0;
  for (let i = 0; i < groups.length;) {
    let found = -1;
    let digits = "";
    for (let j = i; j < groups.length; j++) {
      digits += groups[j]!.digits;
      if (digits.length > 19) break;
      if (digits.length >= 13 && luhnValid(digits)) {
        found = j;
      }
    }
    if (found < 0) {
      i++;
      continue;
    }
    out += run.slice(last, groups[i]!.start) +
      replace(run.slice(groups[i]!.start, groups[found]!.end), "credit_card");
    last = groups[found]!.end;
    i = found + 1;
  }
  return last === 0 ? run : out + run.slice(last);
}

/**
 * Compiles built-in and custom patterns once into a function that returns `text` with
 * every secret replaced (or the same string when there is none). The built-ins run in
 * one combined scan; each custom pattern runs after them.
 *
 * @example Mask a card and an email
 * ```ts
 * import { compilePatterns } from "./patterns.ts";
 * import assert from "node:assert/strict";
 * const redact = compilePatterns(["credit_card", "email"], []);
 * const out = redact("card 4111-1111-1111-1111 by ada@example.com, order 1234567890123", () => "***");
 * assert.ok(out === "card *** by ***, order 1234567890123");
 * ```
 */
export function compilePatterns(
  names: readonly BuiltinPatternName[],
  custom: readonly CustomPattern[],
): (text: string, replace: Replacer) => string {
  const chosen = BUILTIN_PATTERN_NAMES.filter((name) => names.includes(name));
  const combined = chosen.length === 0
    ? undefined
    : new RegExp(chosen.map((name) => `(${BUILTIN_PATTERNS[name].source})`).join("|"), "g");
  const customs = custom.map((pattern) => ({
    name: pattern.name,
    regex: new RegExp(pattern.regex, (pattern.flags ?? "").replace("g", "") + "g"),
  }));
  const builtins = (text: string, replace: Replacer): string => {
    const re = combined!;
    re.lastIndex = 0;
    let m = re.exec(text);
    if (m === null) return text;
    let out = "";
    let last = 0;
    for (; m !== null; m = re.exec(text)) {
      let g = 0;
      while (g < chosen.length && m[g + 1] === undefined) g++;
      const name = chosen[g]!;
      let start = m.index;
      const end = start + m[0].length;
      let replacement: string;
      switch (name) {
        case "credit_card": {
          replacement = replaceCards(m[0], replace);
          if (replacement === m[0]) continue;
          break;
        }
        case "url_password": {
          // The user part is scanned like any text (it cannot hold another "://").
          const user = text.indexOf(":", start + 3) + 1;
          const resume = re.lastIndex;
          out += text.slice(last, start) + builtins(text.slice(start, user), replace);
          re.lastIndex = resume;
          last = start = user;
          replacement = replace(text.slice(user, end), name);
          break;
        }
        case "bearer_token":
          start += 6;
          while (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9) start++;
          replacement = replace(text.slice(start, end), name);
          break;
        case "email":
          while (start > last && LOCAL_PART.test(text.charAt(start - 1))) start--;
          if (start === m.index) continue;
          replacement = replace(text.slice(start, end), name);
          break;
        default:
          replacement = replace(m[0], name);
      }
      out += text.slice(last, start) + replacement;
      last = end;
    }
    return last === 0 ? text : out + text.slice(last);
  };
  return (text, replace) => {
    let out = combined === undefined ? text : builtins(text, replace);
    for (let i = 0; i < customs.length; i++) {
      const { name, regex } = customs[i]!;
      regex.lastIndex = 0;
      if (!regex.test(out)) continue;
      regex.lastIndex = 0;
      out = out.replace(regex, (match: string) => (match === "" ? match : replace(match, name)));
    }
    return out;
  };
}

/**
 * The `redact` processor: removes secrets from records by field path and by pattern.
 *
 * @module
 */

import { hmacSha256 } from "../../../src/crypto/hmac_sha256.ts";
import { closest } from "../../../src/schema/closest.ts";
import type { LogRecord, SerializedError } from "../../../src/core/record.ts";
import { envNameSchema, loadSecret } from "../../../src/crypto/keys.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import type { Counter } from "../../../src/plugin/types.ts";
import { FieldMatcher, fieldPathProblem, type StateSet } from "./field_paths.ts";
import { textSuspect } from "./text_check.ts";
import { JsonFieldsRecord } from "../../../src/core/json_fields_record.ts";
import {
  BUILTIN_PATTERN_NAMES,
  type BuiltinPatternName,
  compilePatterns,
  type CustomPattern,
} from "./patterns.ts";
import {
  describe,
  isPlainObject,
  type JsonSchema,
  type JsonSchemaContext,
  type ParseContext,
  type Path,
  s,
  Schema,
} from "../../../src/schema/schema.ts";
import { setOwn } from "../../../src/core/set_own.ts";
import { messageOf } from "../../../src/core/message_of.ts";

/** A pattern option: a built-in name, or a user's own regular expression. */
export type PatternOption = BuiltinPatternName | CustomPattern;

class PatternSchema extends Schema<PatternOption> {
  parse(value: unknown, path: Path, ctx: ParseContext): PatternOption | undefined {
    if (typeof value === "string") {
      if ((BUILTIN_PATTERN_NAMES as readonly string[]).includes(value)) {
        return value as BuiltinPatternName;
      }
      const hint = closest(value, BUILTIN_PATTERN_NAMES);
      ctx.issues.push({
        path,
        message: `Unknown pattern ${describe(value)}; expected one of ${
          BUILTIN_PATTERN_NAMES.join(", ")
        }, or { name, regex } for your own`,
        ...(hint ? { hint: `did you mean "${hint}"?` } : {}),
      });
      return undefined;
    }
    if (isPlainObject(value)) {
      const unknown = Object.keys(value).filter((k) => !["name", "regex", "flags"].includes(k));
      if (unknown.length > 0) {
        ctx.issues.push({
          path: [...path, unknown[0]!],
          atKey: true,
          message: `Unknown key "${unknown[0]}"; expected one of name, regex, flags`,
        });
        return undefined;
      }
      if (typeof value.name !== "string" || value.name === "") {
        ctx.issues.push({ path: [...path, "name"], message: "Expected a non-empty pattern name" });
        return undefined;
      }
      if (typeof value.regex !== "string" || value.regex === "") {
        ctx.issues.push({
          path: [...path, "regex"],
          message: "Expected a non-empty regular expression",
        });
        return undefined;
      }
      const flags = value.flags === undefined ? "" : String(value.flags);
      if (!/^[imsuv]*$/.test(flags)) {
        ctx.issues.push({
          path: [...path, "flags"],
          message: `Expected regular expression flags from i, m, s, u, v, got ${describe(flags)}`,
        });
        return undefined;
      }
      try {
        new RegExp(value.regex, flags + "g");
      } catch (error) {
        ctx.issues.push({
          path: [...path, "regex"],
          message: `Invalid regular expression: ${messageOf(error)}`,
        });
        return undefined;
      }
      return flags
        ? { name: value.name, regex: value.regex, flags }
        : { name: value.name, regex: value.regex };
    }
    ctx.issues.push({ path, message: `Expected ${this.expected()}, got ${describe(value)}` });
    return undefined;
  }
  expected(): string {
    return `a pattern name (${BUILTIN_PATTERN_NAMES.join(", ")}) or { name, regex }`;
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({
      anyOf: [
        { type: "string", enum: [...BUILTIN_PATTERN_NAMES] },
        {
          type: "object",
          properties: {
            name: { type: "string" },
            regex: { type: "string" },
            flags: { type: "string", pattern: "^[imsuv]*$" },
          },
          required: ["name", "regex"],
          additionalProperties: false,
        },
      ],
    }, ctx);
  }
}

const fieldPath = s.custom<string>(
  (value) => typeof value === "string" && fieldPathProblem(value) === undefined ? value : undefined,
  'a field path such as password, card.number, "*.token" or "**.secret"',
  { type: "string", minLength: 1 },
);

const REMOVE = Symbol("remove");
const MAX_DEPTH = 64;

/**
 * Removes secrets from the message, the fields (at any depth, in objects and arrays,
 * including field names) and the error (message, stack, cause chain), returning a new
 * record; a record without secrets is passed on as the same object. Runs before any sink
 * sees the record, so no formatter writes a secret it caught.
 *
 * - `fields`: paths whose whole value goes. One segment (`password`) matches that key at
 *   any depth; longer paths start at the fields (`card.number`); `*` is any one key or
 *   index, `**` any depth; keys compare without regard to case; arrays are crossed.
 * - `patterns`: built-ins found in any text: `credit_card` (13–19 digits that pass the
 *   Luhn check, so order numbers survive), `us_ssn` (123-45-6789), `email`, `jwt`,
 *   `bearer_token` (the token after "Bearer "), `aws_access_key` (AKIA…), `url_password`
 *   (scheme://user:password@host); or `{ name, regex, flags }` of your own.
 * - `mode`: `mask` (replace with `mask`), `remove` (drop the field, cut the text), or
 *   `hash`: `[hmac:<32 hex>]`, HMAC-SHA256 with a secret (`hash_key_env`/`hash_key_file`),
 *   so equal values stay joinable across records without being readable.
 *
 * Every redaction is counted in `sluice_redactions_total{kind="field"|"pattern",rule=…}`.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * processors:
 *   scrub:
 *     type: redact
 *     inputs: [app]
 *     fields: [password, "*.token", card.number, headers.authorization]
 *     patterns: [credit_card, us_ssn, email, jwt, bearer_token, aws_access_key, url_password]
 *     mode: mask
 * sources:
 *   app: { type: logger }
 * sinks:
 *   out: { type: console, inputs: [scrub] }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.processors.scrub?.type, "redact");
 * assert.equal(config.processors.scrub?.options.mode, "mask");
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "redact",
  description:
    "Removes secrets by field path (wildcards, nested) and by pattern (cards with Luhn, SSNs, emails, tokens): mask, remove or hash.",
  options: s.object({
    fields: s.array(fieldPath).default([]).describe(
      'Field paths whose values are redacted: "password" (any depth), "card.number", "*.token", "**.secret".',
    ),
    patterns: s.array(new PatternSchema()).default([]).describe(
      "Built-in patterns (credit_card, us_ssn, email, jwt, bearer_token, aws_access_key, url_password) or { name, regex, flags }.",
    ),
    mode: s.enum(["mask", "remove", "hash"] as const).default("mask").describe(
      "mask: replace with `mask`; remove: drop the field or cut the text; hash: [hmac:…] with a secret, joinable.",
    ),
    mask: s.string().default("[REDACTED]").describe("The replacement in mask mode."),
    hash_key_env: envNameSchema().optional().describe(
      "Environment variable holding the HMAC secret for mode: hash.",
    ),
    hash_key_file: s.string({ minLength: 1 }).optional().describe(
      "File holding the HMAC secret for mode: hash.",
    ),
  }),
  permissions: (options) => ({
    ...(options.hash_key_env !== undefined ? { env: [options.hash_key_env] } : {}),
    ...(options.hash_key_file !== undefined ? { read: [options.hash_key_file] } : {}),
  }),
  create(options, context) {
    const fail = (message: string, cause?: unknown): never => {
      throw new PluginError(`Cannot create processor "${context.id}": ${message}`, { cause });
    };
    if (options.fields.length === 0 && options.patterns.length === 0) {
      fail("it has neither fields nor patterns, so it would redact nothing");
    }
    let secret: Uint8Array | undefined;
    if (options.mode === "hash") {
      if (options.hash_key_env === undefined && options.hash_key_file === undefined) {
        fail("mode: hash needs a secret: set hash_key_env (a variable name) or hash_key_file");
      }
      try {
        secret = loadSecret({ keysEnv: options.hash_key_env, keyFile: options.hash_key_file }, {
          baseDir: context.baseDir,
          names: {
            keys: "hash_key",
            keysEnv: "hash_key_env",
            keyFile: "hash_key_file",
            allowInline: "",
          },
          warn: (message) => context.log.warnOnce(`hash-key:${context.id}`, message),
        });
      } catch (error) {
        fail(messageOf(error), error);
      }
    } else if (options.hash_key_env !== undefined || options.hash_key_file !== undefined) {
      fail(`hash_key_env and hash_key_file apply to mode: hash only, and mode is ${options.mode}`);
    }
    return createRedactor({
      fields: options.fields,
      patterns: options.patterns,
      mode: options.mode,
      mask: options.mask,
      secret,
      counter: (kind, rule) =>
        context.counter(
          "redactions_total",
          "Secrets the redact processor replaced, by kind (field or pattern) and rule.",
          { kind, rule },
        ),
    });
  },
});

/** What {@linkcode createRedactor} needs. */
export interface RedactorOptions {
  /** Field paths. */
  fields: readonly string[];
  /** Patterns. */
  patterns: readonly PatternOption[];
  /** What happens to a secret. */
  mode: "mask" | "remove" | "hash";
  /** The replacement in mask mode. */
  mask: string;
  /** The HMAC secret in hash mode. */
  secret?: Uint8Array | undefined;
  /** A counter per rule: a field path (`kind` "field") or a pattern name ("pattern"). */
  counter?: (kind: "field" | "pattern", rule: string) => Counter;
}

/**
 * The redaction function behind the `redact` processor, compiled once.
 *
 * @example Mask a password field and an email in the message
 * ```ts
 * import { createRedactor } from "./mod.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const redact = createRedactor({ fields: ["password"], patterns: ["email"], mode: "mask", mask: "***" });
 * const out = redact(createRecord({ message: "login ada@example.com", fields: { user: { password: "pw" } } }));
 * assert.ok(out.message === "login ***" && (out.fields.user as { password: string }).password === "***");
 * ```
 */
export function createRedactor(options: RedactorOptions): (record: LogRecord) => LogRecord {
  const matcher = new FieldMatcher(options.fields);
  const builtin = options.patterns.filter((p): p is BuiltinPatternName => typeof p === "string");
  const custom = options.patterns.filter((p): p is CustomPattern => typeof p !== "string");
  const scan = builtin.length + custom.length > 0 ? compilePatterns(builtin, custom) : undefined;
  const counters = new Map<string, Counter>();
  const count = (kind: "field" | "pattern", rule: string) => {
    if (!options.counter) return;
    const key = kind + "\0" + rule;
    let counter = counters.get(key);
    if (!counter) counters.set(key, counter = options.counter(kind, rule));
    counter.inc();
  };
  const mode = options.mode;
  const secret = options.secret;
  const hash = (text: string): string => {
    const digest = hmacSha256(secret!, text).toString("hex");
    return `[hmac:${digest.slice(0, 32)}]`;
  };
  const replaceText = (match: string, pattern: string): string => {
    count("pattern", pattern);
    if (mode === "mask") return options.mask;
    if (mode === "remove") return "";
    return hash(pattern === "credit_card" ? match.replace(/[ -]/g, "") : match);
  };
  const text = scan === undefined
    ? (value: string) => value
    : (value: string) => scan(value, replaceText);
  const fieldValue = (value: unknown, rule: string): unknown => {
    count("field", rule);
    if (mode === "remove") return REMOVE;
    if (mode === "mask") return options.mask;
    return hash(typeof value === "string" ? value : stringify(value));
  };

  const value = (
    input: unknown,
    states: StateSet,
    depth: number,
    seen: object[],
  ): unknown => {
    switch (typeof input) {
      case "string":
        return text(input);
      case "number":
      case "bigint": {
        if (scan === undefined) return input;
        // Of the built-ins only credit_card matches a number, and it needs 13 digits.
        if (
          custom.length === 0 && typeof input === "number" &&
          !(Math.abs(input) >= 1e12 && builtin.includes("credit_card"))
        ) return input;
        const asText = String(input);
        const out = text(asText);
        return out === asText ? input : out;
      }
      case "object":
        break;
      default:
        return input;
    }
    if (input === null) return input;
    if (ArrayBuffer.isView(input) || input instanceof Map || input instanceof Set) return input;
    if (depth >= MAX_DEPTH) {
      count("field", "too_deep");
      return mode === "remove" ? REMOVE : options.mask;
    }
    if (seen.includes(input)) return "[Circular]";
    seen.push(input);
    try {
      if (Array.isArray(input)) return array(input, states, depth, seen);
      const proto = Object.getPrototypeOf(input);
      if (proto !== Object.prototype && proto !== null) {
        const toJSON = (input as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === "function") {
          const json: unknown = toJSON.call(input);
          const out = value(json, states, depth + 1, seen);
          return out === json ? input : out;
        }
      }
      return object(input as Record<string, unknown>, states, depth, seen);
    } finally {
      seen.pop();
    }
  };

  const array = (input: unknown[], states: StateSet, depth: number, seen: object[]) => {
    let out: unknown[] | undefined;
    for (let i = 0; i < input.length; i++) {
      const item = input[i];
      let next: unknown;
      const step = states.empty ? undefined : matcher.element(states, i);
      if (step?.matched) next = fieldValue(item, matcher.paths[step.path]!);
      else next = value(item, step ? step.next : states, depth + 1, seen);
      if (out === undefined) {
        if (next === item) continue;
        out = input.slice(0, i);
      }
      if (next !== REMOVE) out.push(next);
    }
    return out ?? input;
  };

  const object = (
    input: Record<string, unknown>,
    states: StateSet,
    depth: number,
    seen: object[],
  ) => {
    let out: Record<string, unknown> | undefined;
    const keys = Object.keys(input);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = input[key];
      let next: unknown;
      const step = states.empty ? undefined : matcher.step(states, key);
      if (step?.matched) next = fieldValue(item, matcher.paths[step.path]!);
      else next = value(item, step ? step.next : states, depth + 1, seen);
      let name = key;
      if (scan !== undefined) {
        name = text(key);
        if (name !== key && mode === "remove" && name === "") next = REMOVE;
      }
      if (out === undefined) {
        if (next === item && name === key) continue;
        out = {};
        for (let j = 0; j < i; j++) setOwn(out, keys[j]!, input[keys[j]!]);
      }
      if (next === REMOVE) continue;
      if (name !== key && Object.hasOwn(out, name)) {
        let n = 2;
        while (Object.hasOwn(out, `${name}#${n}`)) n++;
        name = `${name}#${n}`;
      }
      setOwn(out, name, next);
    }
    return out ?? input;
  };

  const error = (input: SerializedError, depth: number): SerializedError => {
    const name = text(input.name);
    const message = text(input.message);
    const stack = input.stack === undefined ? undefined : text(input.stack);
    let cause = input.cause;
    if (cause !== undefined && depth < 16) {
      cause = typeof cause === "string" ? text(cause) : error(cause, depth + 1);
    }
    if (
      name === input.name && message === input.message && stack === input.stack &&
      cause === input.cause
    ) return input;
    const out: SerializedError = { name, message };
    if (stack !== undefined) out.stack = stack;
    if (cause !== undefined) out.cause = cause;
    return out;
  };

  const start = matcher.start;
  // Records whose fields are still their JSON text pass unparsed when nothing in them could
  // be redacted (custom patterns are regular expressions of any kind: no such test for them).
  const suspect = custom.length === 0 ? textSuspect(builtin, options.fields) : undefined;
  const redact = (record: LogRecord): LogRecord => {
    if (suspect !== undefined) {
      const json = JsonFieldsRecord.fieldsJson(record);
      if (json !== undefined) {
        // A key outside ASCII may lower-case into a path's key (the Kelvin sign into "k")
        // where the text check's case-insensitive match does not: such text is parsed.
        if (
          record.error === undefined && json.indexOf("\\") === -1 &&
          (!suspect.keys || JsonFieldsRecord.blockOf(record)?.ascii === true) &&
          !suspect.fields(json) && !suspect.message(record.message)
        ) return record;
        JsonFieldsRecord.settle(record);
      }
    }
    const message = text(record.message);
    const fields = value(record.fields, start, 0, []) as Record<string, unknown> | typeof REMOVE;
    const err = record.error === undefined ? undefined : error(record.error, 0);
    if (message === record.message && fields === record.fields && err === record.error) {
      return record;
    }
    const out: LogRecord = {
      ...record,
      message,
      fields: fields === REMOVE || typeof fields !== "object" || fields === null ? {} : fields,
    };
    if (err !== undefined) out.error = err;
    return out;
  };
  if (suspect !== undefined) JsonFieldsRecord.mark(redact);
  return redact;
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

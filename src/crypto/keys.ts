/**
 * Key material for the `encrypted` formatter, the chained file sink and the `redact`
 * processor's hash mode: where keys come from, how they are decoded, how new ones are made.
 *
 * Every message here names where a key came from (an environment variable, a file, a
 * position in a list) and never the key itself.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import {
  type JsonSchema,
  type JsonSchemaContext,
  type ParseContext,
  type Path,
  Schema,
} from "../schema/schema.ts";
import { messageOf } from "../core/message_of.ts";

/** A key could not be loaded or decoded. The message never contains key material. */
export class KeyError extends Error {
  /** Creates the error; pass the underlying failure as `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyError";
  }
}

/** Where a component's keys come from: exactly one of the three. */
export interface KeySource {
  /** Keys written in the config itself (refused unless `allowInline`). */
  keys?: string | undefined;
  /** The name of an environment variable that holds the keys. */
  keysEnv?: string | undefined;
  /** A file that holds the keys, one per line or comma-separated; `#` starts a comment. */
  keyFile?: string | undefined;
  /** Accepts `keys` written in the config. */
  allowInline?: boolean | undefined;
}

/** What {@linkcode readKeyText} needs besides the source. */
export interface KeyContext {
  /** Relative key files resolve against this directory. */
  baseDir: string;
  /** The option names, for messages: `{ keys: "keys", keysEnv: "keys_env", keyFile: "key_file" }`. */
  names?: { keys: string; keysEnv: string; keyFile: string; allowInline: string };
  /** Told when a key file is readable by group or others. */
  warn?: (message: string) => void;
  /** Reads an environment variable; `Deno.env.get` by default. */
  getEnv?: (name: string) => string | undefined;
}

const DEFAULT_NAMES = {
  keys: "keys",
  keysEnv: "keys_env",
  keyFile: "key_file",
  allowInline: "allow_inline_key",
};

/** A valid environment variable name. */
export const ENV_NAME: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/;

class EnvNameSchema extends Schema<string> {
  parse(value: unknown, path: Path, ctx: ParseContext): string | undefined {
    if (typeof value === "string" && ENV_NAME.test(value)) return value;
    // Never echo the value: a `${VAR}` written here has already been expanded to the secret.
    ctx.issues.push({
      path,
      message: `Expected ${this.expected()}, not its value`,
      hint: "write the bare variable name, without ${}",
    });
    return undefined;
  }
  expected(): string {
    return "the name of an environment variable (such as SLUICE_LOG_KEYS)";
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate({ type: "string", pattern: ENV_NAME.source }, ctx);
  }
}

/**
 * The schema of an option that names an environment variable holding a secret. Unlike
 * `s.string()`, its error never repeats the value, which may be the secret itself.
 *
 * @example Refuse a value without echoing it
 * ```ts
 * import { envNameSchema } from "./keys.ts";
 * import type { ParseContext } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const ctx: ParseContext = { issues: [] };
 * envNameSchema().parse("c2VjcmV0LWtleS1tYXRlcmlhbA==", ["keys_env"], ctx);
 * assert.ok(ctx.issues.length === 1 && !ctx.issues[0]!.message.includes("c2Vj"));
 * ```
 */
export function envNameSchema(): Schema<string> {
  return new EnvNameSchema();
}

/**
 * Reads the raw key text from exactly one of `keys`, `keysEnv` or `keyFile`, enforcing
 * the rule that keys written in the config are refused unless explicitly allowed.
 *
 * @example Read keys from an environment variable
 * ```ts
 * import { readKeyText } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const text = readKeyText({ keysEnv: "LOG_KEYS" }, {
 *   baseDir: ".",
 *   getEnv: (name) => (name === "LOG_KEYS" ? "k1,k2" : undefined),
 * });
 * assert.ok(text === "k1,k2");
 * ```
 */
export function readKeyText(source: KeySource, context: KeyContext): string {
  const names = context.names ?? DEFAULT_NAMES;
  const given = [
    source.keys !== undefined ? names.keys : undefined,
    source.keysEnv !== undefined ? names.keysEnv : undefined,
    source.keyFile !== undefined ? names.keyFile : undefined,
  ].filter((name) => name !== undefined);
  if (given.length === 0) {
    throw new KeyError(
      `No key given: set ${names.keysEnv} (the name of an environment variable holding the keys) or ${names.keyFile} (a file holding them)`,
    );
  }
  if (given.length > 1) {
    throw new KeyError(`Give only one of ${given.join(", ")}; they are alternatives`);
  }
  if (source.keys !== undefined) {
    if (!source.allowInline) {
      throw new KeyError(
        `"${names.keys}" holds key material written into the config; a key in a config file leaks ` +
          `through version control, backups and config dumps. Refer to it as \${VAR}, or use ` +
          `${names.keysEnv}: VAR_NAME or ${names.keyFile}: PATH instead, or set ` +
          `${names.allowInline}: true to accept the risk`,
      );
    }
    return source.keys;
  }
  if (source.keysEnv !== undefined) {
    if (!ENV_NAME.test(source.keysEnv)) {
      throw new KeyError(
        `${names.keysEnv} must name an environment variable (such as SLUICE_LOG_KEYS), not hold its value`,
      );
    }
    let value: string | undefined;
    try {
      value = (context.getEnv ?? ((name: string) => Deno.env.get(name)))(source.keysEnv);
    } catch (error) {
      throw new KeyError(
        `Cannot read environment variable "${source.keysEnv}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    if (value === undefined || value.trim() === "") {
      throw new KeyError(`Environment variable "${source.keysEnv}" is not set or is empty`);
    }
    return value;
  }
  const path = resolve(context.baseDir, source.keyFile!);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new KeyError(`Cannot read key file "${path}": ${messageOf(error)}`, { cause: error });
  }
  if (context.warn && Deno.build.os !== "windows") {
    try {
      const mode = Deno.statSync(path).mode;
      if (mode !== null && (mode & 0o077) !== 0) {
        context.warn(
          `Key file "${path}" is readable by group or others (mode ${
            (mode & 0o777).toString(8)
          }); restrict it with chmod 600`,
        );
      }
    } catch {
      // The file was just read; a failing stat changes nothing about the keys.
    }
  }
  return text;
}

/**
 * Splits key text into individual keys: separated by commas, whitespace or new lines,
 * with `#` starting a comment that runs to the end of the line.
 *
 * @example Split a rotation list
 * ```ts
 * import { splitKeys } from "./keys.ts";
 * import assert from "node:assert/strict";
 * assert.ok(splitKeys("new, old # retired next month\n").length === 2);
 * ```
 */
export function splitKeys(text: string): string[] {
  return text.split("\n")
    .map((line) => line.replace(/#.*/, ""))
    .join(",")
    .split(/[\s,]+/)
    .filter((key) => key !== "");
}

/**
 * Decodes one 32-byte key written as URL-safe base64 (Fernet's own key format; standard
 * base64 and missing padding are accepted). `where` names the key in messages.
 *
 * @example Decode a Fernet key
 * ```ts
 * import { decodeKey } from "./keys.ts";
 * import assert from "node:assert/strict";
 * assert.ok(decodeKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=", "key 1").length === 32);
 * ```
 */
export function decodeKey(text: string, where: string): Uint8Array {
  const bytes = decodeBase64Url(text);
  if (bytes === undefined) {
    throw new KeyError(
      `${
        capitalize(where)
      } is not URL-safe base64 (${text.length} characters); expected 32 bytes ` +
        `written as 44 characters, such as the output of "sluice keygen"`,
    );
  }
  if (bytes.length !== 32) {
    throw new KeyError(
      `${capitalize(where)} decodes to ${bytes.length} bytes; expected 32 bytes ` +
        `(44 characters of URL-safe base64, such as the output of "sluice keygen")`,
    );
  }
  return bytes;
}

/**
 * Loads and decodes a key list: the first key encrypts, every key decrypts.
 *
 * @example Two keys from an environment variable
 * ```ts
 * import { generateKey, loadKeys } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const env = `${generateKey()},${generateKey()}`;
 * const keys = loadKeys({ keysEnv: "K" }, { baseDir: ".", getEnv: () => env });
 * assert.ok(keys.length === 2 && keys[0]!.length === 32);
 * ```
 */
export function loadKeys(source: KeySource, context: KeyContext): Uint8Array[] {
  const text = readKeyText(source, context);
  const keys = splitKeys(text);
  const from = describeSource(source, context);
  if (keys.length === 0) throw new KeyError(`No key found in ${from}`);
  return keys.map((key, i) =>
    decodeKey(
      key,
      keys.length === 1 ? `the key in ${from}` : `key ${i + 1} of ${keys.length} in ${from}`,
    )
  );
}

/** The shortest secret {@linkcode loadSecret} accepts, in bytes. */
export const MIN_SECRET_BYTES = 16;

/**
 * Loads an HMAC secret (for chained lines and hashed redaction): the UTF-8 bytes of the
 * trimmed text, at least 16 bytes long. Any string works; `sluice keygen` makes a good one.
 *
 * @example A secret from the environment
 * ```ts
 * import { loadSecret } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const secret = loadSecret({ keysEnv: "CHAIN" }, {
 *   baseDir: ".",
 *   getEnv: () => "0123456789abcdef0123456789abcdef",
 * });
 * assert.ok(secret.length === 32);
 * ```
 */
export function loadSecret(source: KeySource, context: KeyContext): Uint8Array {
  const text = readKeyText(source, context).trim();
  const bytes = new TextEncoder().encode(text);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new KeyError(
      `The secret in ${describeSource(source, context)} is ${bytes.length} bytes long; ` +
        `use at least ${MIN_SECRET_BYTES} (for example the output of "sluice keygen")`,
    );
  }
  return bytes;
}

/**
 * Makes a new random 32-byte key in Fernet's format: URL-safe base64 with padding
 * (44 characters). The same format serves `aes-256-gcm` and HMAC secrets.
 *
 * @example Generate a key
 * ```ts
 * import { generateKey } from "./keys.ts";
 * import assert from "node:assert/strict";
 * assert.ok(generateKey().length === 44);
 * ```
 */
export function generateKey(): string {
  return encodeBase64Url(randomBytes(32), true);
}

/**
 * URL-safe base64, with `=` padding when `padding` is true (Fernet tokens and keys are padded).
 *
 * @example Encode with and without padding
 * ```ts
 * import { encodeBase64Url } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([251, 255]);
 * assert.ok(encodeBase64Url(bytes, true) === "-_8=" && encodeBase64Url(bytes, false) === "-_8");
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array, padding: boolean): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
  if (!padding) return text;
  const pad = (4 - (text.length % 4)) % 4;
  return pad === 0 ? text : text + "=".repeat(pad);
}

const BASE64 = /^[A-Za-z0-9_\-+/]*={0,2}$/;

/**
 * Decodes URL-safe (or standard) base64 with or without padding; `undefined` when the text
 * holds any other character or has an impossible length.
 *
 * @example Decode
 * ```ts
 * import { decodeBase64Url } from "./keys.ts";
 * import assert from "node:assert/strict";
 * assert.ok(decodeBase64Url("-_8=")?.length === 2 && decodeBase64Url("a b") === undefined);
 * ```
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const body = text.replace(/=+$/, "");
  if (body.length % 4 === 1) return undefined;
  if (text.length !== body.length && text.length % 4 !== 0) return undefined;
  const buffer = Buffer.from(body, "base64url");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function describeSource(source: KeySource, context: KeyContext): string {
  if (source.keysEnv !== undefined) return `environment variable "${source.keysEnv}"`;
  if (source.keyFile !== undefined) {
    return `key file "${resolve(context.baseDir, source.keyFile)}"`;
  }
  return `"${(context.names ?? DEFAULT_NAMES).keys}"`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

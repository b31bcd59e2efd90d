/**
 * Chained lines: each line carries an HMAC over the previous line's MAC and its own
 * content, so deleting, inserting, reordering or editing a line breaks the chain at
 * that line. Usable by any line sink as a formatter wrapper; `sluice verify` checks files.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { hmacSha256 } from "./hmac_sha256.ts";
import { resolve } from "node:path";
import { PluginError } from "../plugin/plugin_error.ts";
import type { Formatter, PluginContext, PluginPermissions } from "../plugin/types.ts";
import { s, type Schema } from "../schema/schema.ts";
import { decodeBase64Url, encodeBase64Url, envNameSchema, loadSecret } from "./keys.ts";
import { messageOf } from "../core/message_of.ts";

/** The environment variable `chain: true` reads its secret from. */
export const CHAIN_KEY_ENV = "SLUICE_CHAIN_KEY";

const MAC_CHARS = 43; // 32 bytes of unpadded URL-safe base64
const JSON_TAIL = '"chain":"';
const TEXT_TAIL = " chain=";
const MAC_RE = /^[A-Za-z0-9_-]{43}$/;
const decoder = new TextDecoder();

/** The MAC before the first line of a file: 32 zero bytes. */
export const GENESIS: Uint8Array = new Uint8Array(32);

/** A chained line taken apart. */
export interface ChainedParts {
  /** The record's text as the inner formatter wrote it. */
  content: string;
  /** The MAC (43 characters of URL-safe base64). */
  mac: string;
}

/**
 * The MAC of one record: HMAC-SHA256(secret, previous MAC ‖ UTF-8 content).
 *
 * @example The first MAC of a file
 * ```ts
 * import { chainMac, GENESIS } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const mac = chainMac(new TextEncoder().encode("a secret of 16+ bytes"), GENESIS, "hello");
 * assert.ok(mac.length === 32);
 * ```
 */
export function chainMac(secret: Uint8Array, previous: Uint8Array, content: string): Uint8Array {
  return hmacSha256(secret, previous, content);
}

/**
 * Adds the MAC to a record's text. A JSON object keeps being one, with a last member
 * `"chain":"<mac>"`; any other text ends in ` chain=<mac>` (a logfmt pair).
 *
 * @example Both forms
 * ```ts
 * import { attachMac } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const mac = "A".repeat(43);
 * assert.ok(attachMac('{"a":1}', mac) === `{"a":1,"chain":"${mac}"}`);
 * assert.ok(attachMac("a=1", mac) === `a=1 chain=${mac}`);
 * ```
 */
export function attachMac(content: string, mac: string): string {
  const n = content.length;
  if (n >= 2 && content.charCodeAt(0) === 123 && content.charCodeAt(n - 1) === 125) {
    return n === 2
      ? `{${JSON_TAIL}${mac}"}`
      : content.slice(0, n - 1) + "," + JSON_TAIL + mac + '"}';
  }
  return content + TEXT_TAIL + mac;
}

/**
 * Takes a chained line (or the last line of a multi-line record) apart; `undefined` when
 * it does not end with a MAC. The inverse of {@linkcode attachMac}.
 *
 * @example Split a JSON line
 * ```ts
 * import { attachMac, splitChained } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const mac = "B".repeat(43);
 * assert.ok(splitChained(attachMac('{"a":1}', mac))?.content === '{"a":1}');
 * ```
 */
export function splitChained(line: string): ChainedParts | undefined {
  const n = line.length;
  if (line.endsWith('"}') && n >= MAC_CHARS + JSON_TAIL.length + 3) {
    const start = n - 2 - MAC_CHARS;
    const mac = line.slice(start, n - 2);
    if (line.slice(start - JSON_TAIL.length, start) === JSON_TAIL && MAC_RE.test(mac)) {
      const prefix = line.slice(0, start - JSON_TAIL.length);
      if (prefix.endsWith(",")) return { content: prefix.slice(0, -1) + "}", mac };
      if (prefix.endsWith("{")) return { content: prefix + "}", mac };
    }
  }
  if (n >= MAC_CHARS + TEXT_TAIL.length) {
    const start = n - MAC_CHARS;
    const mac = line.slice(start);
    if (line.slice(start - TEXT_TAIL.length, start) === TEXT_TAIL && MAC_RE.test(mac)) {
      return { content: line.slice(0, start - TEXT_TAIL.length), mac };
    }
  }
  return undefined;
}

/**
 * The chain state of one output: the secret and the MAC of the last line written.
 * Call {@linkcode LineChain.next} (or a wrapped formatter) for records in the order they
 * are written.
 *
 * @example Chain two lines and verify them
 * ```ts
 * import { LineChain, verifyChain } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const secret = new TextEncoder().encode("a secret of 16+ bytes");
 * const chain = new LineChain(secret);
 * const lines = [chain.next('{"n":1}'), chain.next('{"n":2}')];
 * const report = await verifyChain((async function* () { yield* lines; })(), secret);
 * assert.ok(report.broken === undefined && report.records === 2);
 * ```
 */
export class LineChain {
  readonly #secret: Uint8Array;
  #previous: Uint8Array;

  /** Starts a chain after `previous` (the genesis MAC of a new file by default). */
  constructor(secret: Uint8Array, previous: Uint8Array = GENESIS) {
    this.#secret = secret.slice();
    this.#previous = previous;
  }

  /** The MAC of the last line. */
  get previous(): Uint8Array {
    return this.#previous;
  }

  /** Continues after another line, such as the last line of an existing file. */
  set previous(mac: Uint8Array) {
    if (mac.length !== 32) throw new RangeError(`A chain MAC is 32 bytes, got ${mac.length}`);
    this.#previous = mac;
  }

  /** Returns `content` with the next MAC attached, and advances the chain. */
  next(content: string): string {
    const mac = chainMac(this.#secret, this.#previous, content);
    this.#previous = mac;
    return attachMac(content, encodeBase64Url(mac, false));
  }

  /** Wraps a formatter so that each line it makes is chained. */
  wrap(format: Formatter): Formatter {
    return (record) => {
      const out = format(record);
      return this.next(typeof out === "string" ? out : decoder.decode(out));
    };
  }
}

/** Where a chain breaks. */
export interface ChainBreak {
  /** The 1-based line number of the first line of the broken record. */
  line: number;
  /** What is wrong. */
  reason: string;
}

/** The outcome of {@linkcode verifyChain}. */
export interface ChainReport {
  /** Records verified before the break (all of them when the chain holds). */
  records: number;
  /** Physical lines read. */
  lines: number;
  /** The first break, if any. */
  broken?: ChainBreak;
}

/**
 * Verifies chained lines from the genesis MAC and reports the first break. A record may
 * span several physical lines (a text line with a stack trace): lines without a MAC
 * belong to the next line that has one. Deleting the last lines of a file cannot be
 * detected by a chain; everything else (edits, deletions, insertions, reordering) can.
 *
 * @example A deleted line is found
 * ```ts
 * import { LineChain, verifyChain } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const secret = new TextEncoder().encode("a secret of 16+ bytes");
 * const chain = new LineChain(secret);
 * const lines = ["a", "b", "c"].map((m) => chain.next(`msg=${m}`));
 * lines.splice(1, 1);
 * const report = await verifyChain((async function* () { yield* lines; })(), secret);
 * assert.ok(report.broken?.line === 2);
 * ```
 */
export async function verifyChain(
  lines: AsyncIterable<string> | Iterable<string>,
  secret: Uint8Array,
): Promise<ChainReport> {
  let previous: Uint8Array = GENESIS;
  let records = 0;
  let count = 0;
  let pending = "";
  let pendingStart = 0;
  for await (const line of lines) {
    count++;
    const parts = splitChained(line);
    if (parts === undefined) {
      if (pendingStart === 0) {
        pendingStart = count;
        pending = line + "\n";
      } else pending += line + "\n";
      continue;
    }
    const first = pendingStart || count;
    const content = pending + parts.content;
    pending = "";
    pendingStart = 0;
    const expected = chainMac(secret, previous, content);
    const stored = decodeBase64Url(parts.mac)!;
    if (!timingSafeEqual(expected, stored)) {
      const span = first === count ? `line ${first}` : `lines ${first}-${count}`;
      return {
        records,
        lines: count,
        broken: {
          line: first,
          reason: `chain MAC of ${span} does not match: this record was edited, or a record ` +
            `before it was deleted, inserted or moved (or the secret is not the one it was written with)`,
        },
      };
    }
    previous = stored;
    records++;
  }
  if (pendingStart !== 0) {
    return {
      records,
      lines: count,
      broken: {
        line: pendingStart,
        reason:
          `line ${pendingStart} has no chain MAC, and no chained line follows it (truncated or appended)`,
      },
    };
  }
  return { records, lines: count };
}

/** What the end of an existing file says about its chain. */
export type ChainTail =
  | { state: "empty" }
  | { state: "chained"; mac: Uint8Array }
  | { state: "unchained" };

/**
 * Reads the MAC the last line of `path` ends with, so a restarted sink continues the
 * chain. Only the last 128 bytes are read: the MAC is at the end of the line.
 *
 * @example A missing file is empty
 * ```ts
 * import { readChainTail } from "./chain.ts";
 * import assert from "node:assert/strict";
 * assert.ok(readChainTail("/nonexistent/sluice.log").state === "empty");
 * ```
 */
export function readChainTail(path: string): ChainTail {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { state: "empty" };
    throw error;
  }
  try {
    const size = file.statSync().size;
    if (size === 0) return { state: "empty" };
    const length = Math.min(size, 128);
    file.seekSync(size - length, Deno.SeekMode.Start);
    const buffer = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = file.readSync(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    let text = decoder.decode(buffer.subarray(0, read));
    if (text.endsWith("\n")) text = text.slice(0, -1);
    const parts = splitChained(text.slice(text.lastIndexOf("\n") + 1));
    if (parts === undefined) return { state: "unchained" };
    return { state: "chained", mac: decodeBase64Url(parts.mac)! };
  } finally {
    file.close();
  }
}

/** The `chain:` option of a file sink: `true`, or where the secret comes from. */
export type ChainOption = boolean | { key_env?: string | undefined; key_file?: string | undefined };

/**
 * The schema of a sink's `chain:` option: `true` (secret from `SLUICE_CHAIN_KEY`),
 * `false`, or `{ key_env: VAR }` / `{ key_file: path }`.
 *
 * @example Parse the option
 * ```ts
 * import { chainOptionSchema } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const ctx = { issues: [] };
 * assert.ok(chainOptionSchema().parse({ key_env: "LOG_CHAIN_KEY" }, ["chain"], ctx) !== undefined);
 * ```
 */
export function chainOptionSchema(): Schema<ChainOption> {
  return s.union<ChainOption>(
    s.boolean(),
    s.object({
      key_env: envNameSchema().optional().describe(
        `The environment variable holding the chain secret (default ${CHAIN_KEY_ENV}).`,
      ),
      key_file: s.string({ minLength: 1 }).optional().describe("A file holding the chain secret."),
    }) as unknown as Schema<ChainOption>,
  ).default(false).describe(
    "Chain lines with HMAC-SHA256 so that `sluice verify` detects edited, deleted or reordered lines; " +
      `true reads the secret from ${CHAIN_KEY_ENV}.`,
  );
}

/** A chain bound to a file: {@linkcode FileChain.resync} re-reads where the file ends. */
export interface FileChain {
  /** The chain. */
  readonly chain: LineChain;
  /** Wraps the sink's formatter. */
  wrap(format: Formatter): Formatter;
  /** Continues from the file's current last line (after a failed write, or a reopen). */
  resync(): void;
}

/**
 * Opens the chain of a file sink from its `chain:` option: loads the secret and continues
 * from the last line of an existing file. Returns `undefined` when the option is off.
 *
 * @example A chain for a new file
 * ```ts
 * import { openFileChain } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/secret`, "0123456789abcdef0123456789abcdef");
 * const context = {
 *   id: "out", baseDir: dir,
 *   log: { warnOnce() {}, info() {} },
 * };
 * const chained = openFileChain({ key_file: "secret" }, `${dir}/app.log`, context);
 * const line = chained?.chain.next("msg=hello");
 * assert.ok(line?.startsWith("msg=hello chain="));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function openFileChain(
  option: ChainOption | undefined,
  path: string,
  context: Pick<PluginContext, "id" | "baseDir" | "log">,
): FileChain | undefined {
  if (option === undefined || option === false) return undefined;
  const source = option === true || (option.key_env === undefined && option.key_file === undefined)
    ? { keysEnv: CHAIN_KEY_ENV }
    : { keysEnv: option.key_env, keyFile: option.key_file };
  let secret: Uint8Array;
  try {
    secret = loadSecret(source, {
      baseDir: context.baseDir,
      names: {
        keys: "chain",
        keysEnv: "chain.key_env",
        keyFile: "chain.key_file",
        allowInline: "chain",
      },
      warn: (message) => context.log.warnOnce(`chain-key:${context.id}`, message),
    });
  } catch (error) {
    throw new PluginError(
      `Cannot open sink "${context.id}": chain secret: ${messageOf(error)}`,
      { cause: error },
    );
  }
  const chain = new LineChain(secret);
  const absolute = resolve(context.baseDir, path);
  const resync = (): void => {
    const tail = readChainTail(absolute);
    if (tail.state === "chained") chain.previous = tail.mac;
    else {
      chain.previous = GENESIS;
      if (tail.state === "unchained") {
        context.log.warnOnce(
          `chain:${context.id}`,
          `Sink "${context.id}": "${absolute}" already ends with a line that has no chain MAC; ` +
            `"sluice verify" will report the unchained lines. Start a new file for a verifiable chain`,
        );
      }
    }
  };
  resync();
  return { chain, wrap: (format) => chain.wrap(format), resync };
}

/**
 * Adds what a sink's `chain:` option needs to the sink's own Deno permissions: the
 * secret's environment variable or file. (The sink already reads its own file's tail.)
 *
 * @example `chain: true`
 * ```ts
 * import { chainPermissions } from "./chain.ts";
 * import assert from "node:assert/strict";
 * const needs = chainPermissions(true, { read: ["logs"], write: ["logs"] });
 * assert.ok(needs.env?.[0] === "SLUICE_CHAIN_KEY" && needs.write?.[0] === "logs");
 * ```
 */
export function chainPermissions(
  option: ChainOption | undefined,
  own: PluginPermissions,
): PluginPermissions {
  if (option === undefined || option === false) return own;
  if (option !== true && option.key_file !== undefined) {
    return { ...own, read: [...(own.read ?? []), option.key_file] };
  }
  const name = option === true ? CHAIN_KEY_ENV : option.key_env ?? CHAIN_KEY_ENV;
  return { ...own, env: [...(own.env ?? []), name] };
}

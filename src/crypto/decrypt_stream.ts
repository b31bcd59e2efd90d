/**
 * Streaming decryption of encrypted log files (plain or gzip-rotated), line by line,
 * reporting each line that cannot be decrypted and going on.
 *
 * @module
 */
import { concatBytes } from "../core/concat_bytes.ts";

import { AesGcm, GCM_VERSION } from "./aes_gcm.ts";
import { Fernet } from "./fernet.ts";
import { messageOf } from "../core/message_of.ts";

/**
 * Reads a file (or stdin for `-`) line by line, without the line endings. A gzip file
 * (recognised by its magic bytes, whatever its name) is decompressed on the fly.
 * A last line without a newline is yielded too. A `\r` before a newline is dropped unless
 * `keepCarriageReturns` (verification needs every byte).
 *
 * @example Read a file's lines
 * ```ts
 * import { readLines } from "./decrypt_stream.ts";
 * import assert from "node:assert/strict";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "a\nb\n");
 * const lines: string[] = [];
 * for await (const line of readLines(path)) lines.push(line);
 * Deno.removeSync(path);
 * assert.ok(lines.join() === "a,b");
 * ```
 */
export async function* readLines(
  path: string,
  options: { keepCarriageReturns?: boolean } = {},
): AsyncGenerator<string> {
  const strip = !options.keepCarriageReturns;
  let stream: ReadableStream<Uint8Array>;
  if (path === "-") stream = Deno.stdin.readable;
  else {
    const file = await Deno.open(path, { read: true });
    stream = file.readable;
  }
  const reader = stream.getReader();
  let first: Uint8Array | undefined;
  // Peek at the first chunk to tell gzip from text.
  const head = await reader.read();
  if (!head.done) first = head.value;
  const gzip = first !== undefined && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first !== undefined) controller.enqueue(first);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const bytes = gzip
    ? replay.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
    : replay;
  const text = bytes.pipeThrough(new TextDecoderStream());
  let rest = "";
  try {
    for await (const chunk of text) {
      rest += chunk;
      let start = 0;
      for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n", start)) {
        const end = strip && nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        yield rest.slice(start, end);
        start = nl + 1;
      }
      rest = rest.slice(start);
    }
  } finally {
    // Ends the underlying file stream when the consumer stops early.
    await text.cancel().catch(() => {});
  }
  if (rest !== "") yield strip && rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}

/**
 * Decrypts lines written by the `encrypted` formatter with either algorithm: a line that
 * starts with `gcm1.` is AES-256-GCM, anything else is tried as a Fernet token. A MAC a
 * chained sink appended (` chain=…`) is ignored.
 *
 * @example Decrypt a Fernet line
 * ```ts
 * import { Keyring } from "./decrypt_stream.ts";
 * import { Fernet } from "./fernet.ts";
 * import { decodeKey, generateKey } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const key = decodeKey(generateKey(), "key");
 * const line = new Fernet([key]).encrypt("hello");
 * assert.ok(new TextDecoder().decode(new Keyring([key]).decrypt(line)) === "hello");
 * ```
 */
export class Keyring {
  readonly #fernet: Fernet;
  readonly #gcm: AesGcm;

  /** Creates a keyring from decoded 32-byte keys. */
  constructor(keys: readonly Uint8Array[]) {
    this.#fernet = new Fernet(keys);
    this.#gcm = new AesGcm(keys);
  }

  /** Decrypts one line; throws a {@linkcode TokenError} when it cannot. */
  decrypt(line: string): Uint8Array {
    const space = line.indexOf(" ");
    const token = space >= 0 ? line.slice(0, space) : line;
    if (token.startsWith(GCM_VERSION + ".")) return this.#gcm.decrypt(token);
    return this.#fernet.decrypt(token);
  }
}

/** A line that could not be decrypted. */
export interface DecryptFailure {
  /** The file, as given. */
  file: string;
  /** The 1-based line number; 0 when the file could not be opened. */
  line: number;
  /** Why. */
  reason: string;
}

/** Totals of {@linkcode decryptFiles}. */
export interface DecryptSummary {
  /** Lines decrypted. */
  decrypted: number;
  /** Lines that failed. */
  failed: number;
  /** Files that could not be read, or not to their end (each reported as a failure too). */
  unreadable: number;
}

/**
 * Decrypts every line of every file in order, handing each plaintext (with a trailing
 * newline) to `write` in chunks of about 64 KiB, and each failure to `onFailure`; then
 * goes on. Blank lines are skipped. A file that cannot be read is one failure (line 0).
 *
 * @example Decrypt a file into a string
 * ```ts
 * import { decryptFiles, Keyring } from "./decrypt_stream.ts";
 * import { Fernet } from "./fernet.ts";
 * import { decodeKey, generateKey } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const key = decodeKey(generateKey(), "key");
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, new Fernet([key]).encrypt("hello") + "\nnot a token\n");
 * let out = "";
 * const failures: number[] = [];
 * await decryptFiles([path], new Keyring([key]), (bytes) => {
 *   out += new TextDecoder().decode(bytes);
 * }, (failure) => failures.push(failure.line));
 * Deno.removeSync(path);
 * assert.ok(out === "hello\n" && failures[0] === 2);
 * ```
 */
export async function decryptFiles(
  files: readonly string[],
  keyring: Keyring,
  write: (bytes: Uint8Array) => Promise<void> | void,
  onFailure: (failure: DecryptFailure) => void,
): Promise<DecryptSummary> {
  const summary: DecryptSummary = { decrypted: 0, failed: 0, unreadable: 0 };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const flush = async () => {
    if (size === 0) return;
    const out = concatBytes(chunks);
    chunks.length = 0;
    size = 0;
    await write(out);
  };
  for (const file of files) {
    let number = 0;
    try {
      for await (const line of readLines(file)) {
        number++;
        if (line.trim() === "") continue;
        let plain: Uint8Array;
        try {
          plain = keyring.decrypt(line);
        } catch (error) {
          summary.failed++;
          onFailure({ file, line: number, reason: messageOf(error) });
          continue;
        }
        summary.decrypted++;
        chunks.push(plain, NEWLINE);
        size += plain.length + 1;
        if (size >= 65536) await flush();
      }
    } catch (error) {
      summary.unreadable++;
      onFailure({
        file,
        line: number,
        reason: number === 0
          ? `cannot read file: ${messageOf(error)}`
          : `cannot read past this line: ${messageOf(error)}`,
      });
    }
  }
  await flush();
  return summary;
}

const NEWLINE = new Uint8Array([10]);

/**
 * Fernet tokens, exactly as the Fernet specification and Python's
 * `cryptography.fernet` define them, with key rotation in the manner of `MultiFernet`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, timingSafeEqual } from "node:crypto";
import { hmacSha256 } from "./hmac_sha256.ts";
import { decodeBase64Url, encodeBase64Url } from "./keys.ts";
import { fillRandom } from "../core/random_pool.ts";
import { TokenError } from "./token_error.ts";

/** Options of {@linkcode Fernet}. */
export interface FernetOptions {
  /** The clock, in epoch milliseconds; `Date.now` by default. */
  now?: () => number;
}

interface FernetKey {
  signing: Uint8Array;
  encryption: Uint8Array;
}

const VERSION = 0x80;
const HEADER = 25; // version (1) + timestamp (8) + IV (16)
const MAC = 32;
const MAX_CLOCK_SKEW = 60;

/**
 * Fernet encryption and decryption. A token is URL-safe base64 (with padding) of
 * `0x80 ‖ timestamp (64-bit big-endian seconds) ‖ IV (16) ‖ AES-128-CBC ciphertext (PKCS#7)
 * ‖ HMAC-SHA256(signing key, everything before it)`. A key is 32 bytes: the first 16 sign,
 * the last 16 encrypt. Given several keys, the first encrypts and every one is tried to
 * decrypt (rotation, like Python's `MultiFernet`). The work is done by `node:crypto`
 * (OpenSSL-grade primitives), synchronously, so a formatter can call it per record.
 *
 * @example Round trip
 * ```ts
 * import { Fernet } from "./fernet.ts";
 * import { decodeKey, generateKey } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const fernet = new Fernet([decodeKey(generateKey(), "key")]);
 * const token = fernet.encrypt("hello");
 * assert.ok(new TextDecoder().decode(fernet.decrypt(token)) === "hello");
 * ```
 */
export class Fernet {
  readonly #keys: FernetKey[];
  readonly #now: () => number;

  /** Creates a Fernet with decoded 32-byte keys; the first one encrypts. */
  constructor(keys: readonly Uint8Array[], options: FernetOptions = {}) {
    if (keys.length === 0) throw new RangeError("Fernet needs at least one key");
    this.#keys = keys.map((key, i) => {
      if (key.length !== 32) {
        throw new RangeError(`Fernet key ${i + 1} is ${key.length} bytes; expected 32`);
      }
      return { signing: key.slice(0, 16), encryption: key.slice(16, 32) };
    });
    this.#now = options.now ?? Date.now;
  }

  /** How many keys can decrypt. */
  get keyCount(): number {
    return this.#keys.length;
  }

  /** Encrypts with the first key, a fresh random IV and the current time. */
  encrypt(data: string | Uint8Array): string {
    const iv = new Uint8Array(16);
    fillRandom(iv, 0, 16);
    return this.encryptAt(data, Math.floor(this.#now() / 1000), iv);
  }

  /**
   * Encrypts with a given timestamp (seconds) and IV: the specification's test vectors
   * use it. Never reuse an IV; {@linkcode Fernet.encrypt} draws a random one.
   */
  encryptAt(data: string | Uint8Array, seconds: number, iv: Uint8Array): string {
    const key = this.#keys[0]!;
    const cipher = createCipheriv("aes-128-cbc", key.encryption, iv);
    const head = typeof data === "string" ? cipher.update(data, "utf8") : cipher.update(data);
    const tail = cipher.final();
    const signed = HEADER + head.length + tail.length;
    const token = new Uint8Array(signed + MAC);
    token[0] = VERSION;
    const view = new DataView(token.buffer);
    view.setUint32(1, Math.floor(seconds / 0x1_0000_0000));
    view.setUint32(5, seconds >>> 0);
    token.set(iv, 9);
    token.set(head, HEADER);
    token.set(tail, HEADER + head.length);
    const mac = hmacSha256(key.signing, token.subarray(0, signed));
    token.set(mac, signed);
    return encodeBase64Url(token, true);
  }

  /**
   * Decrypts a token made with any of the keys. With `ttlSeconds`, a token older than
   * that (or more than 60 s in the future) is refused, as Python's `decrypt(token, ttl)` does.
   * Throws a {@linkcode TokenError} naming the problem.
   */
  decrypt(token: string, ttlSeconds?: number): Uint8Array {
    const bytes = decodeBase64Url(token.trim());
    if (bytes === undefined) {
      throw new TokenError("malformed", "Not a Fernet token: the text is not URL-safe base64");
    }
    if (bytes.length < HEADER + 16 + MAC || (bytes.length - HEADER - MAC) % 16 !== 0) {
      throw new TokenError(
        "malformed",
        `Not a whole Fernet token: ${bytes.length} bytes is not a valid token length (truncated?)`,
      );
    }
    if (bytes[0] !== VERSION) {
      throw new TokenError(
        "version",
        `Not a Fernet token: version byte is 0x${bytes[0]!.toString(16)}, expected 0x80`,
      );
    }
    const signed = bytes.subarray(0, bytes.length - MAC);
    const mac = bytes.subarray(bytes.length - MAC);
    let key: FernetKey | undefined;
    for (const candidate of this.#keys) {
      const expected = hmacSha256(candidate.signing, signed);
      if (timingSafeEqual(expected, mac)) {
        key = candidate;
        break;
      }
    }
    if (key === undefined) {
      throw new TokenError(
        "signature",
        `Signature matches none of the ${this.#keys.length} key(s): the token was altered, ` +
          `or written with another key`,
      );
    }
    if (ttlSeconds !== undefined) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const seconds = view.getUint32(1) * 0x1_0000_0000 + view.getUint32(5);
      const now = Math.floor(this.#now() / 1000);
      if (seconds + ttlSeconds < now) {
        throw new TokenError("expired", `Token is older than ${ttlSeconds} s`);
      }
      if (now + MAX_CLOCK_SKEW < seconds) {
        throw new TokenError("future", "Token is dated more than 60 s in the future");
      }
    }
    try {
      const decipher = createDecipheriv("aes-128-cbc", key.encryption, bytes.subarray(9, HEADER));
      const head = decipher.update(bytes.subarray(HEADER, bytes.length - MAC));
      const tail = decipher.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch (error) {
      throw new TokenError(
        "malformed",
        "Token is signed but its ciphertext does not decrypt (bad padding)",
        { cause: error },
      );
    }
  }
}

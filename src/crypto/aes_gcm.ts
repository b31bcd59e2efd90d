/**
 * AES-256-GCM encrypted lines with a key id, so that key rotation works line by line.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import { decodeBase64Url, encodeBase64Url } from "./keys.ts";
import { fillRandom } from "../core/random_pool.ts";
import { TokenError } from "./token_error.ts";

/** The version tag every AES-256-GCM line starts with. */
export const GCM_VERSION = "gcm1";

const NONCE = 12;
const TAG = 16;
const encoder = new TextEncoder();

interface GcmKey {
  id: string;
  key: Uint8Array;
  aad: Uint8Array;
}

/**
 * The key id of a 32-byte key: the first 6 bytes of HMAC-SHA256(key, "sluice aes-256-gcm
 * key id") as 8 characters of URL-safe base64. It identifies the key without revealing it.
 *
 * @example Key ids are stable
 * ```ts
 * import { gcmKeyId } from "./aes_gcm.ts";
 * import assert from "node:assert/strict";
 * const key = new Uint8Array(32);
 * assert.ok(gcmKeyId(key) === gcmKeyId(key) && gcmKeyId(key).length === 8);
 * ```
 */
export function gcmKeyId(key: Uint8Array): string {
  const digest = createHmac("sha256", key).update("sluice aes-256-gcm key id").digest();
  return encodeBase64Url(digest.subarray(0, 6), false);
}

/**
 * AES-256-GCM lines: `gcm1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. Each record
 * gets a fresh random 96-bit nonce; the version and key id (`gcm1.<key id>`) are the
 * associated data, so a line cannot be moved to another key or version without failing
 * authentication. The first key encrypts; a line is decrypted with the key its id names.
 * Random nonces are safe for up to 2^32 records per key: rotate keys well before that.
 *
 * @example Round trip
 * ```ts
 * import { AesGcm } from "./aes_gcm.ts";
 * import { decodeKey, generateKey } from "./keys.ts";
 * import assert from "node:assert/strict";
 * const gcm = new AesGcm([decodeKey(generateKey(), "key")]);
 * const line = gcm.encrypt("hello");
 * assert.ok(line.startsWith("gcm1.") && new TextDecoder().decode(gcm.decrypt(line)) === "hello");
 * ```
 */
export class AesGcm {
  readonly #keys: GcmKey[];
  readonly #byId = new Map<string, GcmKey>();

  /** Creates the cipher with decoded 32-byte keys; the first one encrypts. */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new RangeError("AES-256-GCM needs at least one key");
    this.#keys = keys.map((key, i) => {
      if (key.length !== 32) {
        throw new RangeError(`AES-256-GCM key ${i + 1} is ${key.length} bytes; expected 32`);
      }
      const id = gcmKeyId(key);
      return { id, key: key.slice(), aad: encoder.encode(`${GCM_VERSION}.${id}`) };
    });
    for (const key of this.#keys) if (!this.#byId.has(key.id)) this.#byId.set(key.id, key);
  }

  /** The id of the key that encrypts. */
  get keyId(): string {
    return this.#keys[0]!.id;
  }

  /** How many keys can decrypt. */
  get keyCount(): number {
    return this.#keys.length;
  }

  /** Encrypts with the first key and a fresh random nonce. */
  encrypt(data: string | Uint8Array): string {
    const key = this.#keys[0]!;
    const nonce = new Uint8Array(NONCE);
    fillRandom(nonce, 0, NONCE);
    const cipher = createCipheriv("aes-256-gcm", key.key, nonce);
    cipher.setAAD(key.aad);
    const head = typeof data === "string" ? cipher.update(data, "utf8") : cipher.update(data);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(NONCE + head.length + tail.length + TAG);
    out.set(nonce, 0);
    out.set(head, NONCE);
    out.set(tail, NONCE + head.length);
    out.set(tag, NONCE + head.length + tail.length);
    return `${GCM_VERSION}.${key.id}.${encodeBase64Url(out, false)}`;
  }

  /** Decrypts a line; throws a {@linkcode TokenError} naming the problem. */
  decrypt(line: string): Uint8Array {
    const text = line.trim();
    const first = text.indexOf(".");
    const second = first < 0 ? -1 : text.indexOf(".", first + 1);
    if (first < 0 || second < 0) {
      throw new TokenError(
        "malformed",
        `Not an AES-256-GCM line: expected ${GCM_VERSION}.<key id>.<data>`,
      );
    }
    const version = text.slice(0, first);
    if (version !== GCM_VERSION) {
      throw new TokenError(
        "version",
        `Unsupported AES-256-GCM line version "${version.slice(0, 16)}", expected "${GCM_VERSION}"`,
      );
    }
    const id = text.slice(first + 1, second);
    const key = this.#byId.get(id);
    if (key === undefined) {
      throw new TokenError(
        "unknown_key",
        `Line was written with key id "${
          id.slice(0, 16)
        }", which is none of the ${this.#keys.length} key(s) given`,
      );
    }
    const bytes = decodeBase64Url(text.slice(second + 1));
    if (bytes === undefined || bytes.length < NONCE + TAG) {
      throw new TokenError(
        "malformed",
        bytes === undefined
          ? "AES-256-GCM data is not URL-safe base64"
          : `AES-256-GCM data is ${bytes.length} bytes, shorter than nonce and tag (truncated?)`,
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.key, bytes.subarray(0, NONCE));
      decipher.setAAD(key.aad);
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
      const head = decipher.update(bytes.subarray(NONCE, bytes.length - TAG));
      const tail = decipher.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch (error) {
      throw new TokenError(
        "signature",
        "Authentication failed: the line was altered or truncated",
        { cause: error },
      );
    }
  }
}

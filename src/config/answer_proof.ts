/**
 * The parent's side of the plugin sandbox's answer proof (`sandbox_protocol.ts`): a fresh
 * secret for one child, and the check of each answer line's HMAC-SHA256 under it.
 *
 * @module
 */

import { hmacSha256 } from "../crypto/hmac_sha256.ts";
import { SANDBOX_LINE, SECRET_BYTES } from "./sandbox_protocol.ts";

/**
 * One child's secret (256 random bits from Web Crypto): {@linkcode AnswerProof.secretLine} is
 * the first line the parent writes to the child's stdin, and {@linkcode AnswerProof.body}
 * returns an answer line's JSON only when its proof is this secret's.
 *
 * @example A line proven with the secret, and one that imitates it
 * ```ts
 * import { AnswerProof } from "./answer_proof.ts";
 * import { hmacSha256 } from "../crypto/hmac_sha256.ts";
 * import { SANDBOX_LINE } from "./sandbox_protocol.ts";
 * import assert from "node:assert/strict";
 * const proof = new AnswerProof();
 * const hex = proof.secretLine.trim();
 * const secret = new Uint8Array(hex.match(/../g)!.map((pair) => parseInt(pair, 16)));
 * const body = '{"seq":0,"busy":"./a.ts"}';
 * const mac = hmacSha256(secret, body).toString("hex");
 * assert.equal(proof.body(`${SANDBOX_LINE}${mac} ${body}`), body);
 * assert.equal(proof.body(`${SANDBOX_LINE}${"0".repeat(64)} ${body}`), undefined);
 * assert.equal(proof.body(`${SANDBOX_LINE}${body}`), undefined);
 * ```
 */
export class AnswerProof {
  readonly #secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));

  /** The secret as the child reads it: hex, and a newline. */
  get secretLine(): string {
    return toHex(this.#secret) + "\n";
  }

  /** The JSON of an answer line (it starts with `SANDBOX_LINE`) if its proof is valid. */
  body(line: string): string | undefined {
    if (!line.startsWith(SANDBOX_LINE)) return undefined;
    const space = line.indexOf(" ", SANDBOX_LINE.length);
    if (space < 0) return undefined;
    const body = line.slice(space + 1);
    const mac = line.slice(SANDBOX_LINE.length, space);
    return sameText(mac, toHex(hmacSha256(this.#secret, body))) ? body : undefined;
  }
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Whether two strings are equal, in a time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let differ = 0;
  for (let i = 0; i < a.length; i++) differ |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return differ === 0;
}

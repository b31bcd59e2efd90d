/**
 * The error raised when an encrypted line cannot be decrypted.
 *
 * @module
 */

/** Why a token was refused. */
export type TokenProblem =
  | "malformed"
  | "version"
  | "signature"
  | "unknown_key"
  | "expired"
  | "future";

/**
 * A token or encrypted line was refused: tampered, truncated, written with a key that is
 * not in the key list, or not a token at all. The message says which, never the key.
 *
 * @example Check the problem
 * ```ts
 * import { TokenError } from "./token_error.ts";
 * import assert from "node:assert/strict";
 * const error = new TokenError("signature", "Signature does not match");
 * assert.ok(error.problem === "signature" && error.name === "TokenError");
 * ```
 */
export class TokenError extends Error {
  /** The kind of problem, for callers that count by reason. */
  readonly problem: TokenProblem;
  /** Creates the error. */
  constructor(problem: TokenProblem, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TokenError";
    this.problem = problem;
  }
}

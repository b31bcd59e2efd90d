/**
 * Bearer token checks in constant time.
 *
 * @module
 */

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Makes a check of `Authorization` header values against `token`. The presented token and
 * the expected one are both hashed (SHA-256) and the digests compared without an early
 * exit, so the time taken depends neither on where they differ nor on their lengths.
 *
 * @example Accept the right token only
 * ```ts
 * import { createBearerCheck } from "./bearer_check.ts";
 * import assert from "node:assert/strict";
 * const check = createBearerCheck("s3cret");
 * assert.ok(await check("Bearer s3cret"));
 * assert.ok(!(await check("Bearer s3cres")));
 * assert.ok(!(await check(undefined)));
 * ```
 */
export function createBearerCheck(
  token: string,
): (authorization: string | undefined) => Promise<boolean> {
  const expected = digest(token);
  return async (authorization) => {
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    // Hash something even when there is no token, so a missing header costs the same.
    const given = await digest(match?.[1] ?? "");
    const want = await expected;
    let diff = match ? 0 : 1;
    for (let i = 0; i < want.length; i++) diff |= want[i]! ^ given[i]!;
    return diff === 0;
  };
}

/**
 * Reading at most a bounded prefix of a peer's response body.
 *
 * @module
 */

/** What {@linkcode readPrefix} read: the prefix as text, and whether the body went on. */
export interface Prefix {
  /** The first bytes of the body, decoded as UTF-8 (a cut character becomes U+FFFD). */
  text: string;
  /** The body was longer than the limit; the rest was cancelled, not read. */
  truncated: boolean;
}

/**
 * Reads at most `maxBytes` of `response`'s body and cancels the rest, so a peer's huge answer
 * (a 64 MiB error page once cost 160 MiB to print 200 characters of it) costs at most the
 * prefix and one chunk.
 *
 * @example A 1 MiB body read as its first 4 KiB
 * ```ts
 * import { readPrefix } from "./read_prefix.ts";
 * import assert from "node:assert/strict";
 * const { text, truncated } = await readPrefix(new Response("x".repeat(1 << 20)), 4096);
 * assert.equal(text.length, 4096);
 * assert.equal(truncated, true);
 * ```
 */
export async function readPrefix(response: Response, maxBytes: number): Promise<Prefix> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    while (size < maxBytes) {
      const { value, done } = await reader.read();
      if (done) break;
      const take = value.subarray(0, maxBytes - size);
      chunks.push(take);
      size += take.length;
      if (take.length < value.length) truncated = true;
    }
    if (size >= maxBytes && !truncated) {
      // Exactly at the limit: the body may or may not go on; look no further than one read.
      const { done } = await reader.read();
      truncated = !done;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { text: new TextDecoder().decode(bytes), truncated };
}

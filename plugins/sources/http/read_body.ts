/**
 * Reading the `http` source's request body within its limits, inflating gzip and deflate.
 *
 * @module
 */

import { concatBytes } from "../../../src/core/concat_bytes.ts";
import { messageOf } from "../../../src/core/message_of.ts";
import { RequestError } from "./request_error.ts";

/** The body's limits: bytes on the wire, and bytes after decompression. */
export interface BodyLimits {
  /** Most bytes sent (compressed or not). */
  body: number;
  /** Most bytes a gzip or deflate body inflates to. */
  inflated: number;
}

/**
 * Compressed input is handed to the inflater in slices this small because a
 * DecompressionStream inflates each chunk it is given whole: one 1 MiB chunk of a gzip bomb
 * came out as one 1 GiB chunk (peak RSS +2,053 MiB) before any limit could look at it. Deflate
 * inflates at most ~1,032:1, so a 4 KiB slice yields at most ~4 MiB at once.
 */
const INFLATE_SLICE_BYTES = 4096;

/**
 * Reads the body, inflating gzip or deflate as a stream: 413 once more than `limits.body`
 * bytes arrive (`body_too_large`) or more than `limits.inflated` come out of the inflater
 * (`inflated_too_large`), so memory stays near the limit whatever the compression ratio.
 * `sent` is the body when the server already read it whole (then `request.body` is not
 * read): an uncompressed one is returned as it is, without a stream.
 *
 * @example An uncompressed body read by the server, and a gzip one from the request
 * ```ts
 * import { readBody } from "./read_body.ts";
 * import assert from "node:assert/strict";
 * const limits = { body: 1024, inflated: 1024 };
 * const sent = new TextEncoder().encode('{"msg":"hi"}');
 * const plain = new Request("http://x/", { method: "POST" });
 * assert.equal(await readBody(plain, limits, sent), sent);
 * const gzip = await new Response(
 *   new Blob([sent]).stream().pipeThrough(new CompressionStream("gzip")),
 * ).bytes();
 * const request = new Request("http://x/", {
 *   method: "POST", body: gzip, headers: { "content-encoding": "gzip" },
 * });
 * assert.deepEqual(await readBody(request, limits), sent);
 * ```
 */
export async function readBody(
  request: Request,
  limits: BodyLimits,
  sent?: Uint8Array,
): Promise<Uint8Array> {
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip" && encoding !== "deflate") {
    if (sent === undefined) await request.body?.cancel().catch(() => {});
    throw new RequestError(
      415,
      "unsupported_encoding",
      `Content-Encoding "${encoding}" is not supported; use gzip or deflate`,
    );
  }
  if (sent !== undefined) {
    if (sent.length > limits.body) throw tooLarge(limits.body);
    if (encoding === "identity") return sent;
    return await collect(inflate(slices(sent), encoding), encoding, limits.inflated);
  }
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (length > limits.body) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge(limits.body);
  }
  if (!request.body) return new Uint8Array(0);
  let wire = 0;
  const metered = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>(
      {
        transform(chunk, controller) {
          wire += chunk.length;
          if (wire > limits.body) throw tooLarge(limits.body);
          if (encoding === "identity") return controller.enqueue(chunk);
          for (let i = 0; i < chunk.length; i += INFLATE_SLICE_BYTES) {
            controller.enqueue(chunk.subarray(i, i + INFLATE_SLICE_BYTES));
          }
        },
      },
      undefined,
      { highWaterMark: 0 },
    ),
  );
  if (encoding === "identity") return await collect(metered, encoding, limits.body);
  return await collect(inflate(metered, encoding), encoding, limits.inflated);
}

/** The bytes in slices of `INFLATE_SLICE_BYTES`, one per pull. */
function slices(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + INFLATE_SLICE_BYTES));
      offset += INFLATE_SLICE_BYTES;
    },
  }, { highWaterMark: 0 });
}

function inflate(
  stream: ReadableStream<Uint8Array>,
  encoding: string,
): ReadableStream<Uint8Array> {
  return stream.pipeThrough(
    new DecompressionStream(encoding as CompressionFormat) as unknown as TransformStream<
      Uint8Array,
      Uint8Array
    >,
  );
}

/** Reads `stream` whole; 413 once more than `limit` bytes came out. */
async function collect(
  stream: ReadableStream<Uint8Array>,
  encoding: string,
  limit: number,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw encoding === "identity" ? tooLarge(limit) : inflatedTooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof RequestError) throw error;
    if (encoding !== "identity") {
      throw new RequestError(
        400,
        "invalid_encoding",
        `Cannot decompress the ${encoding} body: ${messageOf(error)}`,
      );
    }
    throw error;
  }
  // No releaseLock(): the stream is spent, and releasing builds a TypeError (5-10 µs).
  return concatBytes(chunks);
}

function tooLarge(limit: number): RequestError {
  return new RequestError(
    413,
    "body_too_large",
    `The body is larger than max_body_bytes (${limit} bytes)`,
  );
}

function inflatedTooLarge(limit: number): RequestError {
  return new RequestError(
    413,
    "inflated_too_large",
    `The body inflates to more than max_inflated_bytes (${limit} bytes)`,
  );
}

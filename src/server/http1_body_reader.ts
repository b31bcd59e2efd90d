/**
 * Reading a request body off the connection.
 *
 * @module
 */

import {
  closeConnection,
  type Connection,
  ConnectionClosed,
  writeAll,
} from "./http1_connection.ts";
import { BadRequest, type ParsedHead } from "./http1_request_head.ts";
import { concatBytes } from "../core/concat_bytes.ts";
import { TOO_LARGE } from "./read_limited.ts";

const ENCODER = new TextEncoder();
const LATIN1 = new TextDecoder("latin1");

/** Reads a request's body from the connection: a length or chunks, with the body timeout. */
export class BodyReader {
  readonly hasBody: boolean;
  done: boolean;
  failed = false;
  #remaining: number;
  #chunkLeft = 0;
  #trailer = false;
  #continued = false;

  /**
   * `read` appends the connection's next bytes to `c.pending`; `readInto` reads its next
   * bytes into `target` instead, returning how many (both throw `ConnectionClosed`).
   */
  constructor(
    readonly c: Connection,
    readonly head: ParsedHead,
    readonly read: () => Promise<void>,
    readonly readInto: (target: Uint8Array) => Promise<number>,
    readonly timeout: number,
  ) {
    this.hasBody = head.chunked || head.length > 0;
    this.done = !this.hasBody;
    this.#remaining = head.length;
  }

  /** Skips the unread rest of a length-delimited body when it is already buffered, so the connection stays usable. */
  skipBuffered(): void {
    if (this.done || this.head.chunked || this.#remaining > this.c.pending.length) return;
    this.c.pending = this.c.pending.subarray(this.#remaining);
    this.#remaining = 0;
    this.done = true;
  }

  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const chunk = await this.next();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        } catch (error) {
          this.failed = true;
          closeConnection(this.c);
          controller.error(
            error instanceof ConnectionClosed ? new Error("The request body stopped") : error,
          );
        }
      },
      cancel: () => {
        // The handler does not want the rest; the connection cannot be reused.
        this.done = false;
      },
      // Pulled only when read: a stream that filled its queue at once would read the body
      // beside readAll().
    }, { highWaterMark: 0 });
  }

  /**
   * The rest of the body whole, without a stream, or `TOO_LARGE` once it is longer than
   * `limit` (the connection is then not reused). A body already buffered is returned as a view
   * of the connection's bytes; a longer one with a length is read straight into one array once
   * a quarter of it arrived (so the array is at most 4x what the client sent), instead of
   * 64 KiB copies joined at the end. A failure closes the connection and throws, as the stream does.
   */
  async readAll(limit: number): Promise<Uint8Array<ArrayBuffer> | typeof TOO_LARGE> {
    try {
      // The connection's bytes are plain ArrayBuffers (read into arrays of its own).
      return await this.#readAll(limit) as Uint8Array<ArrayBuffer> | typeof TOO_LARGE;
    } catch (error) {
      this.failed = true;
      closeConnection(this.c);
      throw error instanceof ConnectionClosed ? new Error("The request body stopped") : error;
    }
  }

  async #readAll(limit: number): Promise<Uint8Array | typeof TOO_LARGE> {
    if (this.done) return new Uint8Array(0);
    await this.#continue();
    if (!this.head.chunked && this.#remaining <= limit) {
      const total = this.#remaining;
      const chunks: Uint8Array[] = [];
      let received = 0;
      while (received < total && received * 4 < total) {
        const chunk = (await this.next())!;
        chunks.push(chunk);
        received += chunk.length;
      }
      if (received === total) return chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
      const out = new Uint8Array(total);
      let filled = 0;
      for (const chunk of chunks) {
        out.set(chunk, filled);
        filled += chunk.length;
      }
      // next() took every buffered byte (fewer than the body's): the rest comes from the socket.
      while (filled < total) filled += await this.#fillInto(out.subarray(filled));
      this.#remaining = 0;
      this.done = true;
      return out;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const chunk = await this.next();
      if (chunk === null) break;
      size += chunk.length;
      if (size > limit) {
        this.done = false; // The rest is not read: the connection cannot be reused.
        return TOO_LARGE;
      }
      chunks.push(chunk);
    }
    return concatBytes(chunks);
  }

  /** Runs `io` as a body read: the body timeout applies meanwhile. */
  async #asBody<T>(io: () => Promise<T>): Promise<T> {
    const c = this.c;
    const before = c.state;
    c.state = "body";
    c.deadline = Date.now() + this.timeout;
    try {
      return await io();
    } finally {
      if (!c.closed) {
        c.state = before;
        c.deadline = Infinity;
      }
    }
  }

  #fill(): Promise<void> {
    return this.#asBody(this.read);
  }

  #fillInto(target: Uint8Array): Promise<number> {
    return this.#asBody(() => this.readInto(target));
  }

  async #continue(): Promise<void> {
    if (this.head.expectContinue && !this.#continued) {
      this.#continued = true;
      await writeAll(this.c, ENCODER.encode("HTTP/1.1 100 Continue\r\n\r\n"));
    }
  }

  /** The next piece of the body, or null at its end. */
  async next(): Promise<Uint8Array | null> {
    const c = this.c;
    if (this.done) return null;
    await this.#continue();
    if (!this.head.chunked) {
      if (c.pending.length === 0) await this.#fill();
      const n = Math.min(c.pending.length, this.#remaining);
      const out = c.pending.subarray(0, n);
      c.pending = c.pending.subarray(n);
      this.#remaining -= n;
      if (this.#remaining === 0) this.done = true;
      return out;
    }
    for (;;) {
      if (this.#chunkLeft > 0) {
        if (c.pending.length === 0) await this.#fill();
        const n = Math.min(c.pending.length, this.#chunkLeft);
        const out = c.pending.subarray(0, n);
        c.pending = c.pending.subarray(n);
        this.#chunkLeft -= n;
        if (this.#chunkLeft === 0) this.#chunkLeft = -2; // the CRLF after the data
        return out;
      }
      const nl = c.pending.indexOf(10);
      if (nl === -1) {
        if (c.pending.length > 4096) throw new BadRequest(400, "bad_framing", "Malformed chunk");
        await this.#fill();
        continue;
      }
      const line = LATIN1.decode(c.pending.subarray(0, nl)).replace(/\r$/, "");
      c.pending = c.pending.subarray(nl + 1);
      if (this.#chunkLeft === -2) {
        if (line !== "") throw new BadRequest(400, "bad_framing", "Malformed chunk");
        this.#chunkLeft = 0;
        continue;
      }
      if (this.#trailer) {
        if (line === "") {
          this.done = true;
          return null;
        }
        continue;
      }
      const size = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line);
      if (!size) throw new BadRequest(400, "bad_framing", "Malformed chunk size");
      const n = parseInt(size[1]!, 16);
      if (n === 0) this.#trailer = true;
      else this.#chunkLeft = n;
    }
  }
}

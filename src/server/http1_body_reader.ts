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

  constructor(
    readonly c: Connection,
    readonly head: ParsedHead,
    readonly read: () => Promise<void>,
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
    });
  }

  async #fill(): Promise<void> {
    const c = this.c;
    const before = c.state;
    c.state = "body";
    c.deadline = Date.now() + this.timeout;
    try {
      await this.read();
    } finally {
      if (!c.closed) {
        c.state = before;
        c.deadline = Infinity;
      }
    }
  }

  /** The next piece of the body, or null at its end. */
  async next(): Promise<Uint8Array | null> {
    const c = this.c;
    if (this.done) return null;
    if (this.head.expectContinue && !this.#continued) {
      this.#continued = true;
      await writeAll(c, ENCODER.encode("HTTP/1.1 100 Continue\r\n\r\n"));
    }
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

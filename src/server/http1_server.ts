/**
 * A bounded HTTP/1.1 server on `Deno.listen`: a cap on open connections, timeouts for
 * headers, for a body that stops arriving and for idle keep-alive connections, and an
 * accept loop that outlives "Too many open files".
 *
 * `Deno.serve` has none of these (measured on Deno 2.9.6: a connection that sends nothing,
 * a header dripped one byte every 2 s and an idle keep-alive connection were all still open
 * after 70 s, and an `accept` failing with EMFILE ended its listener for good), so the
 * Sluice server parses HTTP/1.1 itself. It serves what the server's routes need: a request
 * line, headers, `Content-Length` and chunked bodies, `Expect: 100-continue`, keep-alive
 * and pipelining, responses with a length or chunked (streamed) bodies.
 *
 * @module
 */

import { concatBytes } from "../core/concat_bytes.ts";
import {
  closeConnection,
  type Connection,
  ConnectionClosed,
  READ_BYTES,
  writeAll,
} from "./http1_connection.ts";
import { BadRequest, type ParsedHead, parseHead } from "./http1_request_head.ts";
import { BodyReader } from "./http1_body_reader.ts";
import { head, writeResponse } from "./http1_response.ts";
import type { TOO_LARGE } from "./read_limited.ts";

/** What the server counts; each call is one event. */
export interface Http1Events {
  /** A connection was closed by the server, with why (`too_many_connections`, `header_timeout` …). */
  closed(reason: Http1CloseReason): void;
  /** `accept` failed (EMFILE, ENFILE …); the listener keeps accepting. */
  acceptError(error: unknown): void;
  /** A request could not be parsed (answered 400, 413 or 431) and its connection closed. */
  badRequest(reason: string): void;
}

/** Why the server closed a connection. */
export type Http1CloseReason =
  | "too_many_connections"
  | "evicted"
  | "header_timeout"
  | "body_timeout"
  | "idle_timeout";

/** Limits of an {@linkcode Http1Server}, in connections and milliseconds. */
export interface Http1Limits {
  /** Most open connections; beyond it the longest-idle keep-alive one is closed, else the new one is refused with 503. */
  maxConnections: number;
  /** Longest time from a request's first byte (or the connection's start) to the end of its headers. */
  headerTimeout: number;
  /** Longest pause while a request body is being read. */
  bodyTimeout: number;
  /** Longest a keep-alive connection waits for its next request. */
  idleTimeout: number;
  /** Largest request head (request line and headers), in bytes; beyond it 431. */
  maxHeaderBytes: number;
}

/** Options of {@linkcode Http1Server}. */
export interface Http1ServerOptions extends Http1Limits {
  /** Host to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Counters for closed connections, accept errors and unparsable requests. */
  events?: Partial<Http1Events>;
}

/** What the handler gets besides the request. */
export interface Http1Info {
  /** The client's address. */
  remoteAddr: Deno.NetAddr;
  /**
   * Reads the request's body whole without its stream (`request.body` then ends empty), or
   * `TOO_LARGE` beyond `limit` bytes; absent when the request has no body to read.
   */
  readBody?: (limit: number) => Promise<Uint8Array<ArrayBuffer> | typeof TOO_LARGE>;
}

/** Handles one request. */
export type Http1Handler = (request: Request, info: Http1Info) => Response | Promise<Response>;

const CRLF2 = new Uint8Array([13, 10, 13, 10]);
/**
 * Refused connections answered with care at once (see `answerRefused`); beyond it one is
 * answered and closed without waiting, so a flood holds at most this many descriptors more.
 */
const MAX_REFUSING = 64;
/** How long a refused connection may take to send its request, and again to read the 503. */
const REFUSE_WAIT_MS = 500;
const ENCODER = new TextEncoder();
const LATIN1 = new TextDecoder("latin1");

/**
 * An HTTP/1.1 server with bounded connections and timeouts. `start()` binds; `shutdown()`
 * stops accepting, closes idle connections, lets running requests finish and resolves when
 * every connection is closed.
 *
 * @example Serve, request, stop
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http1Server } from "./http1_server.ts";
 * const server = new Http1Server({
 *   hostname: "127.0.0.1", port: 0, maxConnections: 8, headerTimeout: 5000,
 *   bodyTimeout: 5000, idleTimeout: 5000, maxHeaderBytes: 65536,
 * }, async (request) => new Response(`got ${(await request.text()).length} bytes`));
 * server.start();
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, { method: "POST", body: "abc" });
 * assert.equal(await res.text(), "got 3 bytes");
 * await server.shutdown();
 * ```
 */
export class Http1Server implements AsyncDisposable {
  readonly #options: Http1ServerOptions;
  readonly #handler: Http1Handler;
  readonly #connections = new Set<Connection>();
  readonly #loops = new Set<Promise<void>>();
  /** Refused connections still being answered. */
  readonly #refusing = new Set<Deno.Conn>();
  #listener: Deno.TcpListener | undefined;
  #accepting: Promise<void> | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #closing = false;
  #finished: Promise<void> | undefined;
  readonly #done = Promise.withResolvers<void>();

  /** Creates the server; `start()` binds. */
  constructor(options: Http1ServerOptions, handler: Http1Handler) {
    this.#options = options;
    this.#handler = handler;
  }

  /** The bound address (after `start()`). */
  get addr(): Deno.NetAddr {
    if (!this.#listener) throw new Error("The server is not started");
    return this.#listener.addr;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Settles once `shutdown()` closed every connection. */
  get finished(): Promise<void> {
    return this.#done.promise;
  }

  /** Binds (throws when the address is taken) and starts accepting. */
  start(): void {
    this.#listener = Deno.listen({
      hostname: this.#options.hostname,
      port: this.#options.port,
      transport: "tcp",
    });
    this.#accepting = this.#accept(this.#listener);
    const { headerTimeout, bodyTimeout, idleTimeout } = this.#options;
    // A sweep every quarter of the shortest timeout (at most 1 s) closes late connections at
    // most 25% after their deadline, without a timer per read.
    const tick = Math.max(
      20,
      Math.min(1000, Math.min(headerTimeout, bodyTimeout, idleTimeout) / 4),
    );
    this.#sweep = setInterval(() => this.#expire(Date.now()), tick);
  }

  /** Stops accepting, closes idle connections, waits for running requests and closes the rest. */
  shutdown(): Promise<void> {
    if (this.#finished) return this.#finished;
    this.#closing = true;
    this.#finished = (async () => {
      if (this.#sweep !== undefined) clearInterval(this.#sweep);
      try {
        this.#listener?.close();
      } catch {
        // Already closed.
      }
      await this.#accepting;
      for (const conn of this.#refusing) closeQuietly(conn);
      for (const c of this.#connections) if (c.state !== "handler") closeConnection(c);
      await Promise.allSettled([...this.#loops]);
      this.#done.resolve();
    })();
    return this.#finished;
  }

  /** Same as `shutdown()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    let backoff = 10;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
        backoff = 10;
      } catch (error) {
        if (this.#closing) return;
        // EMFILE/ENFILE: the pending connection stays in the kernel's backlog. Free a
        // descriptor (the longest-idle keep-alive connection) and retry after a pause that
        // grows to 1 s, so a flood cannot spin the loop.
        this.#options.events?.acceptError?.(error);
        this.#evictIdle();
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(1000, backoff * 2);
        continue;
      }
      if (this.#closing) {
        conn.close();
        return;
      }
      if (this.#connections.size >= this.#options.maxConnections && !this.#evictIdle()) {
        this.#options.events?.closed?.("too_many_connections");
        if (this.#refusing.size >= MAX_REFUSING) refuseNow(conn);
        else {
          this.#refusing.add(conn);
          answerRefused(conn).finally(() => this.#refusing.delete(conn));
        }
        continue;
      }
      const now = Date.now();
      const entry: Connection = {
        conn,
        pending: new Uint8Array(0),
        state: "head",
        deadline: now + this.#options.headerTimeout,
        idleSince: now,
        closed: false,
        abort: undefined,
      };
      this.#connections.add(entry);
      const loop = this.#serve(entry).catch(() => {}).finally(() => {
        closeConnection(entry);
        this.#connections.delete(entry);
        this.#loops.delete(loop);
      });
      this.#loops.add(loop);
    }
  }

  /** Closes the keep-alive connection idle longest; false when none is idle. */
  #evictIdle(): boolean {
    let oldest: Connection | undefined;
    for (const c of this.#connections) {
      if (c.state === "idle" && (!oldest || c.idleSince < oldest.idleSince)) oldest = c;
    }
    if (!oldest) return false;
    this.#options.events?.closed?.("evicted");
    closeConnection(oldest);
    return true;
  }

  #expire(now: number): void {
    for (const c of this.#connections) {
      if (c.deadline >= now || c.closed) continue;
      const reason = c.state === "idle"
        ? "idle_timeout"
        : c.state === "body"
        ? "body_timeout"
        : "header_timeout";
      this.#options.events?.closed?.(reason);
      if (reason !== "idle_timeout") {
        // Tell the client why, as Node does (408); best effort, the socket may be full.
        c.conn.write(head(408, [["content-length", "0"], ["connection", "close"]])).catch(
          () => {},
        );
      }
      closeConnection(c);
    }
  }

  async #serve(c: Connection): Promise<void> {
    const buffer = new Uint8Array(READ_BYTES);
    const readInto = async (target: Uint8Array): Promise<number> => {
      let n: number | null;
      try {
        n = await c.conn.read(target);
      } catch {
        throw new ConnectionClosed();
      }
      if (n === null) throw new ConnectionClosed();
      return n;
    };
    const read = async (): Promise<void> => {
      const n = await readInto(buffer);
      c.pending = c.pending.length === 0
        ? buffer.slice(0, n)
        : concatBytes([c.pending, buffer.subarray(0, n)]);
    };
    const { headerTimeout, idleTimeout, maxHeaderBytes } = this.#options;
    while (!c.closed) {
      // Wait for the next request's head.
      let end: number;
      while ((end = indexOf(c.pending, CRLF2)) === -1) {
        if (c.pending.length > maxHeaderBytes) {
          return this.#fail(c, new BadRequest(431, "header_too_large", "Request head too large"));
        }
        if (c.state === "idle" && c.pending.length === 0) {
          await read();
          c.state = "head";
          c.deadline = Date.now() + headerTimeout;
          continue;
        }
        await read();
      }
      if (end > maxHeaderBytes) {
        return this.#fail(c, new BadRequest(431, "header_too_large", "Request head too large"));
      }
      let parsed: ParsedHead;
      try {
        parsed = parseHead(LATIN1.decode(c.pending.subarray(0, end)), c.conn);
      } catch (error) {
        if (error instanceof BadRequest) return this.#fail(c, error);
        throw error;
      }
      c.pending = c.pending.subarray(end + 4);
      const body = new BodyReader(c, parsed, read, readInto, this.#options.bodyTimeout);
      c.abort = new AbortController();
      const init: RequestInit = {
        method: parsed.method,
        headers: parsed.headers,
        signal: c.abort.signal,
      };
      const info: Http1Info = { remoteAddr: c.conn.remoteAddr as Deno.NetAddr };
      if (parsed.method !== "GET" && parsed.method !== "HEAD" && body.hasBody) {
        init.body = body.stream();
        (init as { duplex?: string }).duplex = "half";
        info.readBody = (limit) => body.readAll(limit);
      }
      c.state = "handler";
      c.deadline = Infinity;
      let response: Response;
      try {
        response = await this.#handler(new Request(parsed.url, init), info);
      } catch {
        response = new Response(JSON.stringify({ error: "Internal server error" }), {
          status: 500,
          headers: { "content-type": "application/json" },
        });
      }
      if (body.failed) return; // The body timed out or was malformed; the connection is gone.
      body.skipBuffered();
      const keepAlive = parsed.keepAlive && body.done && !this.#closing &&
        response.headers.get("connection")?.toLowerCase() !== "close";
      await writeResponse(c, response, parsed, keepAlive);
      c.abort = undefined;
      if (!keepAlive) return;
      c.state = "idle";
      c.idleSince = Date.now();
      c.deadline = c.idleSince + idleTimeout;
      if (c.pending.length > 0) {
        c.state = "head";
        c.deadline = c.idleSince + headerTimeout;
      }
    }
  }

  async #fail(c: Connection, error: BadRequest): Promise<void> {
    this.#options.events?.badRequest?.(error.reason);
    const text = JSON.stringify({ error: error.message });
    await writeAll(
      c,
      concatBytes([
        head(error.status, [
          ["content-type", "application/json"],
          ["content-length", String(ENCODER.encode(text).length)],
          ["connection", "close"],
        ]),
        ENCODER.encode(text),
      ]),
    ).catch(() => {});
  }
}

const REFUSAL_TEXT = ENCODER.encode('{"error":"Too many connections; retry later"}');
const REFUSAL = concatBytes([
  head(503, [
    ["content-type", "application/json"],
    ["content-length", String(REFUSAL_TEXT.length)],
    ["retry-after", "1"],
    ["connection", "close"],
  ]),
  REFUSAL_TEXT,
]);

/** Answers a connection over the limit with 503 and closes it, without reading its request. */
function refuseNow(conn: Deno.Conn): void {
  conn.write(REFUSAL).catch(() => {}).finally(() => closeQuietly(conn));
}

/**
 * Answers a connection over the limit with 503 so that an HTTP client reads it: first waits
 * (up to `REFUSE_WAIT_MS`) for its request, since a client that gets an answer before it has
 * sent anything takes it for a broken connection (Deno's fetch: "received unexpected message
 * from connection"); then writes the 503, shuts its sending side and reads what the client
 * still sends until it closes (up to `REFUSE_WAIT_MS` again), since closing a socket with
 * unread bytes resets the connection, and a reset can discard the answer before the client
 * has read it.
 */
async function answerRefused(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(READ_BYTES);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waitRead = (reading: Promise<number | null>) =>
    Promise.race([
      reading,
      new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), REFUSE_WAIT_MS)),
    ]).finally(() => clearTimeout(timer));
  let reading = conn.read(buffer);
  reading.catch(() => {});
  try {
    const first = await waitRead(reading);
    await writeAllTo(conn, REFUSAL);
    if (first === null) return; // The client closed already.
    await conn.closeWrite();
    const end = Date.now() + REFUSE_WAIT_MS;
    for (
      let got: number | null | "late" = first;
      got !== null && got !== "late" && Date.now() < end;
    ) {
      reading = conn.read(buffer);
      reading.catch(() => {});
      got = await waitRead(reading);
    }
  } catch {
    // Reset or closed by the client, or by shutdown().
  } finally {
    closeQuietly(conn);
  }
}

async function writeAllTo(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  let i = haystack.indexOf(first);
  while (i !== -1 && i + needle.length <= haystack.length) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i = haystack.indexOf(first, i + 1);
  }
  return -1;
}

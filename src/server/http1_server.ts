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
}

/** Handles one request. */
export type Http1Handler = (request: Request, info: Http1Info) => Response | Promise<Response>;

/** A request head larger than this many bytes in one read is split over reads; 64 KiB keeps reads few. */
const READ_BYTES = 65_536;
const CRLF2 = new Uint8Array([13, 10, 13, 10]);
const ENCODER = new TextEncoder();
const LATIN1 = new TextDecoder("latin1");
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

type State = "head" | "body" | "handler" | "idle";

interface Connection {
  conn: Deno.Conn;
  /** Bytes read but not yet used. */
  pending: Uint8Array;
  state: State;
  /** When the current state's timeout fires (epoch ms); Infinity while the handler runs. */
  deadline: number;
  /** When the connection last finished a response or was accepted (for eviction order). */
  idleSince: number;
  closed: boolean;
  /** Aborts the running request's signal when the connection closes. */
  abort: AbortController | undefined;
}

class BadRequest extends Error {
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
    this.name = "BadRequest";
  }
}

class Closed extends Error {
  constructor() {
    super("The connection closed");
    this.name = "Closed";
  }
}

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
      for (const c of this.#connections) if (c.state !== "handler") close(c);
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
        refuse(conn);
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
        close(entry);
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
    close(oldest);
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
      close(c);
    }
  }

  async #serve(c: Connection): Promise<void> {
    const buffer = new Uint8Array(READ_BYTES);
    const read = async (): Promise<void> => {
      let n: number | null;
      try {
        n = await c.conn.read(buffer);
      } catch {
        throw new Closed();
      }
      if (n === null) throw new Closed();
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
      const body = new BodyReader(c, parsed, read, this.#options.bodyTimeout);
      c.abort = new AbortController();
      const init: RequestInit = {
        method: parsed.method,
        headers: parsed.headers,
        signal: c.abort.signal,
      };
      if (parsed.method !== "GET" && parsed.method !== "HEAD" && body.hasBody) {
        init.body = body.stream();
        (init as { duplex?: string }).duplex = "half";
      }
      c.state = "handler";
      c.deadline = Infinity;
      let response: Response;
      try {
        response = await this.#handler(new Request(parsed.url, init), {
          remoteAddr: c.conn.remoteAddr as Deno.NetAddr,
        });
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

interface ParsedHead {
  method: string;
  url: string;
  headers: Headers;
  http10: boolean;
  keepAlive: boolean;
  chunked: boolean;
  length: number;
  expectContinue: boolean;
}

function parseHead(text: string, conn: Deno.Conn): ParsedHead {
  const lines = text.split("\r\n");
  const requestLine = lines[0] ?? "";
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/.exec(requestLine);
  if (!match) throw new BadRequest(400, "bad_request_line", "Malformed request line");
  const [, method, target, minor] = match as unknown as [string, string, string, string];
  const headers = new Headers();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new BadRequest(400, "bad_header", "Malformed header line");
    try {
      headers.append(name, line.slice(colon + 1).trim());
    } catch {
      throw new BadRequest(400, "bad_header", `Malformed value of header "${name}"`);
    }
  }
  const http10 = minor === "0";
  const connection = (headers.get("connection") ?? "").toLowerCase();
  const keepAlive = http10 ? connection.includes("keep-alive") : !connection.includes("close");
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  let chunked = false;
  let length = 0;
  if (te !== null) {
    // A length and a transfer coding together is how requests are smuggled past proxies.
    if (cl !== null || te.trim().toLowerCase() !== "chunked") {
      throw new BadRequest(400, "bad_framing", "Unsupported Transfer-Encoding");
    }
    chunked = true;
  } else if (cl !== null) {
    if (!/^\d{1,15}$/.test(cl.trim())) {
      throw new BadRequest(400, "bad_framing", "Malformed Content-Length");
    }
    length = Number(cl.trim());
  }
  const host = headers.get("host") ?? "";
  const authority = /^[A-Za-z0-9.\-:[\]]+$/.test(host)
    ? host
    : `${(conn.localAddr as Deno.NetAddr).hostname}:${(conn.localAddr as Deno.NetAddr).port}`;
  let url: string;
  if (target.startsWith("/")) url = `http://${authority}${target}`;
  else if (/^https?:\/\//i.test(target)) url = target;
  else if (target === "*" && method === "OPTIONS") url = `http://${authority}/`;
  else throw new BadRequest(400, "bad_request_line", "Malformed request target");
  try {
    url = new URL(url).href;
  } catch {
    throw new BadRequest(400, "bad_request_line", "Malformed request target");
  }
  return {
    method,
    url,
    headers,
    http10,
    keepAlive,
    chunked,
    length,
    expectContinue: !http10 && (headers.get("expect") ?? "").toLowerCase() === "100-continue",
  };
}

/** Reads a request's body from the connection: a length or chunks, with the body timeout. */
class BodyReader {
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
          close(this.c);
          controller.error(error instanceof Closed ? new Error("The request body stopped") : error);
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
      const out = c.pending.slice(0, n);
      c.pending = c.pending.subarray(n);
      this.#remaining -= n;
      if (this.#remaining === 0) this.done = true;
      return out;
    }
    for (;;) {
      if (this.#chunkLeft > 0) {
        if (c.pending.length === 0) await this.#fill();
        const n = Math.min(c.pending.length, this.#chunkLeft);
        const out = c.pending.slice(0, n);
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

async function writeResponse(
  c: Connection,
  response: Response,
  request: ParsedHead,
  keepAlive: boolean,
): Promise<void> {
  const status = response.status;
  const fields: [string, string][] = [];
  for (const [name, value] of response.headers) {
    if (name === "set-cookie" || name === "connection" || name === "transfer-encoding") continue;
    if (name === "content-length") continue;
    fields.push([name, value]);
  }
  for (const cookie of response.headers.getSetCookie()) fields.push(["set-cookie", cookie]);
  fields.push(["connection", keepAlive ? "keep-alive" : "close"]);
  const noBody = request.method === "HEAD" || status === 204 || status === 304 ||
    (status >= 100 && status < 200);
  if (noBody || response.body === null) {
    const length = response.headers.get("content-length");
    if (!noBody || length !== null) fields.push(["content-length", noBody ? length! : "0"]);
    await response.body?.cancel().catch(() => {});
    await writeAll(c, head(status, fields, response.statusText)).catch(() => close(c));
    return;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Bodies that are complete at once (c.json(), a string) get a Content-Length; one that is
  // still being produced after a timer tick is streamed with chunked encoding.
  let streaming = false;
  const tick = Symbol("tick");
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<typeof tick>((resolve) => timer = setTimeout(resolve, 0, tick)),
    ]);
    clearTimeout(timer);
    if (next === tick) {
      streaming = true;
      break;
    }
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.length;
    if (size > READ_BYTES) {
      streaming = true;
      break;
    }
  }
  try {
    if (!streaming) {
      fields.push(["content-length", String(size)]);
      await writeAll(c, concatBytes([head(status, fields, response.statusText), ...chunks]));
      return;
    }
    const chunked = !request.http10;
    if (chunked) fields.push(["transfer-encoding", "chunked"]);
    else fields[fields.length - 1] = ["connection", "close"];
    const frame = (data: Uint8Array) =>
      chunked ? concatBytes([ENCODER.encode(`${data.length.toString(16)}\r\n`), data, CRLF]) : data;
    await writeAll(
      c,
      concatBytes([head(status, fields, response.statusText), ...chunks.map(frame)]),
    );
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      if (next.value.length > 0) await writeAll(c, frame(next.value));
    }
    if (chunked) await writeAll(c, ENCODER.encode("0\r\n\r\n"));
    if (!chunked) close(c);
  } catch {
    await reader.cancel().catch(() => {});
    close(c);
  }
}

const CRLF = new Uint8Array([13, 10]);

function head(status: number, fields: [string, string][], statusText = ""): Uint8Array {
  let text = `HTTP/1.1 ${status} ${statusText || REASONS[status] || "Unknown"}\r\n`;
  for (const [name, value] of fields) text += `${name}: ${value}\r\n`;
  return ENCODER.encode(text + "\r\n");
}

/** Answers a connection over the limit with 503 and closes it, without reading its request. */
function refuse(conn: Deno.Conn): void {
  const text = '{"error":"Too many connections; retry later"}';
  conn.write(
    concatBytes([
      head(503, [
        ["content-type", "application/json"],
        ["content-length", String(text.length)],
        ["retry-after", "1"],
        ["connection", "close"],
      ]),
      ENCODER.encode(text),
    ]),
  ).catch(() => {}).finally(() => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  });
}

async function writeAll(c: Connection, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    if (c.closed) throw new Closed();
    offset += await c.conn.write(data.subarray(offset));
  }
}

function close(c: Connection): void {
  if (c.closed) return;
  c.closed = true;
  c.abort?.abort();
  try {
    c.conn.close();
  } catch {
    // Already closed by the peer.
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

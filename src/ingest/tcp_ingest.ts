/**
 * The TCP listener behind the `tcp`, `syslog` and `python` sources: connections, framing,
 * back-pressure, limits and rejection counting.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { ParseError } from "../parse/parse_error.ts";
import type { FrameParser } from "./frame_parser.ts";
import { PluginError } from "../plugin/plugin_error.ts";
import type { Counter, SourceContext } from "../plugin/types.ts";
import { type Address, formatAddress } from "../io/address.ts";
import { JsonBlockReader, type JsonBlockReject } from "../parse/json_block_reader.ts";
import { FrameDecoder, type FrameHandler, type FramingMode } from "./framing.ts";
import { messageOf } from "../core/message_of.ts";
import { yieldToEventLoop } from "./yield_to_event_loop.ts";

/**
 * How long one connection's reads may hold the event loop before they yield it a turn.
 * Measured under four flooding connections and 800 idle ones (Deno 2.9.6, 2 cores): never
 * yielding, /health went unanswered for the whole 8 s flood; yielding every 10 ms, it took
 * 0.8-2.3 s; every 1 ms, 0.15-0.55 s; at every read, 0.07-0.26 s, but a read of one small
 * line would then pay a yield (7 µs) too. At most 1,000 yields a second cost under 1% of a core.
 */
const YIELD_EVERY_MS = 1;

/** Options of a {@linkcode TcpIngest}. */
export interface TcpIngestOptions {
  /** Where to listen (port 0 picks a free one; read it from {@linkcode TcpIngest.port}). */
  address: Address;
  /** PEM certificate chain and key to accept TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
  /** How each connection's stream is cut into frames. */
  framing: FramingMode;
  /** Also end newline frames at NUL. */
  nulDelimiter: boolean;
  /** The largest frame; longer ones are rejected (`frame_too_large`) and skipped. */
  maxFrameBytes: number;
  /**
   * At this many connections, the longest-idle one is closed for a new one (`evicted`); when
   * none is idle (all wait on the pipeline) the new one is closed at once (`too_many_connections`).
   */
  maxConnections: number;
  /** Closes a connection idle this long (ms); 0 keeps idle connections open. */
  idleTimeout: number;
  /** Most records per second per connection (a token bucket with one second of burst); 0 is unlimited. */
  rateLimit: number;
  /** Turns a frame into a record. */
  parse: FrameParser;
  /** Size of each socket read. */
  readBytes?: number;
}

interface Connection {
  conn: Deno.Conn;
  lastActive: number;
  /** Waiting for the pipeline (back-pressure), which is not idleness. */
  busy: boolean;
  closed: boolean;
}

/**
 * Accepts connections and reads each one in a loop: a chunk is cut into frames, frames are
 * parsed into one batch, and the batch is emitted — reading pauses until the pipeline has
 * room (per-connection back-pressure through TCP flow control). Every frame that cannot be
 * used is counted through `context.reject(reason)`: framing problems (`frame_too_large`,
 * `bad_octet_count`, `truncated_frame`, `empty_frame`), parse failures (the parser's reason,
 * such as `invalid_json` or `invalid_utf8`), `rate_limited` and `too_many_connections`. A
 * fatal framing error closes that connection only. Memory per connection is bounded by
 * `maxFrameBytes` plus one read.
 *
 * @example Listen, receive a line, stop
 * ```ts
 * import { TcpIngest } from "./tcp_ingest.ts";
 * import { createFrameParser } from "./frame_parser.ts";
 * import assert from "node:assert/strict";
 * const got: string[] = [];
 * const context = {
 *   id: "lines", emit: (records: { message: string }[]) => (got.push(...records.map((r) => r.message)), Promise.resolve()),
 *   reject: () => {}, counter: () => ({ inc() {}, value: 0 }), log: { warnOnce() {}, info() {} },
 * };
 * const ingest = new TcpIngest({
 *   address: { hostname: "127.0.0.1", port: 0 }, framing: "auto", nulDelimiter: false,
 *   maxFrameBytes: 65536, maxConnections: 10, idleTimeout: 0, rateLimit: 0,
 *   parse: createFrameParser({ format: "text", invalidUtf8: "reject" }),
 * }, context as never);
 * ingest.start();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: ingest.port });
 * await conn.write(new TextEncoder().encode("hello\n"));
 * conn.close();
 * while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
 * await ingest[Symbol.asyncDispose]();
 * assert.ok(got[0] === "hello");
 * ```
 */
export class TcpIngest implements AsyncDisposable {
  readonly #options: TcpIngestOptions;
  readonly #context: SourceContext;
  readonly #connections = new Set<Connection>();
  readonly #loops = new Set<Promise<void>>();
  readonly #accepted: Counter;
  readonly #connectionErrors: Counter;
  readonly #scanned: Counter;
  readonly #idleClosed: Counter;
  readonly #evicted: Counter;
  #listener: Deno.Listener | undefined;
  #acceptLoop: Promise<void> | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  /** Creates the listener's state; `start()` binds. */
  constructor(options: TcpIngestOptions, context: SourceContext) {
    this.#options = options;
    this.#context = context;
    this.#accepted = context.counter("connections_total", "Connections a source accepted.");
    this.#scanned = context.counter("records_scanned_total", JsonBlockReader.SCANNED_HELP);
    this.#connectionErrors = context.counter(
      "connection_errors_total",
      "Connections a source lost to a network error.",
    );
    const closedHelp = "Connections a source closed, by reason (idle_timeout, evicted).";
    this.#idleClosed = context.counter("connections_closed_total", closedHelp, {
      reason: "idle_timeout",
    });
    this.#evicted = context.counter("connections_closed_total", closedHelp, { reason: "evicted" });
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return (this.#listener?.addr as Deno.NetAddr | undefined)?.port ?? 0;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Binds and starts accepting. Throws a {@linkcode PluginError} when the address is taken. */
  start(): void {
    const { address, tls } = this.#options;
    try {
      this.#listener = tls
        ? Deno.listenTls({ hostname: address.hostname, port: address.port, ...tls })
        : Deno.listen({ hostname: address.hostname, port: address.port, transport: "tcp" });
    } catch (error) {
      throw new PluginError(
        `Cannot listen for source "${this.#context.id}" on ${formatAddress(address)}: ${
          messageOf(error)
        }`,
        { cause: error },
      );
    }
    this.#acceptLoop = this.#accept(this.#listener);
    if (this.#options.idleTimeout > 0) {
      this.#sweep = setInterval(
        () => this.#closeIdle(),
        Math.max(50, Math.min(1000, this.#options.idleTimeout / 2)),
      );
    }
  }

  /** Stops accepting, closes every connection and waits for their loops to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#closing = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    try {
      this.#listener?.close();
    } catch {
      // Already closed.
    }
    await this.#acceptLoop;
    for (const c of this.#connections) close(c);
    await Promise.allSettled([...this.#loops]);
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#closing) return;
        this.#connectionErrors.inc();
        this.#context.log.warnOnce(
          `source:${this.#context.id}:accept`,
          `Source "${this.#context.id}" failed to accept a connection`,
          error,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (this.#closing) {
        conn.close();
        return;
      }
      if (this.#connections.size >= this.#options.maxConnections && !this.#evictIdlest()) {
        this.#context.reject("too_many_connections");
        this.#context.log.warnOnce(
          `source:${this.#context.id}:max_connections`,
          `Source "${this.#context.id}" refused a connection: ${this.#options.maxConnections} already open, none idle`,
        );
        try {
          conn.close();
        } catch {
          // The peer may be gone already.
        }
        continue;
      }
      this.#accepted.inc();
      const entry: Connection = { conn, lastActive: Date.now(), busy: false, closed: false };
      this.#connections.add(entry);
      const loop = this.#serve(entry).finally(() => {
        this.#connections.delete(entry);
        this.#loops.delete(loop);
      });
      this.#loops.add(loop);
    }
  }

  /**
   * At `maxConnections`, closes the connection idle longest (not one waiting on the pipeline)
   * so that a new sender gets in: idle slots held by dead or quiet peers must not lock real
   * senders out, whose first writes the kernel accepts even when the source then refuses them.
   */
  #evictIdlest(): boolean {
    let idlest: Connection | undefined;
    for (const c of this.#connections) {
      if (!c.busy && !c.closed && (idlest === undefined || c.lastActive < idlest.lastActive)) {
        idlest = c;
      }
    }
    if (idlest === undefined) return false;
    this.#evicted.inc();
    this.#context.log.warnOnce(
      `source:${this.#context.id}:evicted`,
      `Source "${this.#context.id}" has ${this.#options.maxConnections} connections open (max_connections): it closes the longest-idle one (${
        peerOf(idlest.conn)
      }, idle ${
        Date.now() - idlest.lastActive
      } ms) for each new one, counted in sluice_connections_closed_total{reason="evicted"}`,
    );
    this.#connections.delete(idlest);
    close(idlest);
    return true;
  }

  #closeIdle(): void {
    const limit = Date.now() - this.#options.idleTimeout;
    for (const c of this.#connections) {
      if (!c.busy && c.lastActive < limit) {
        this.#idleClosed.inc();
        this.#context.log.warnOnce(
          `source:${this.#context.id}:idle_timeout`,
          `Source "${this.#context.id}" closed a connection idle for ${this.#options.idleTimeout} ms (idle_timeout, from ${
            peerOf(c.conn)
          }), counted in sluice_connections_closed_total{reason="idle_timeout"}`,
        );
        close(c);
      }
    }
  }

  async #serve(entry: Connection): Promise<void> {
    const options = this.#options;
    const context = this.#context;
    const parse = options.parse;
    const parseText = parse.text;
    const decoder = new FrameDecoder({
      mode: options.framing,
      maxFrameBytes: options.maxFrameBytes,
      nulDelimiter: options.nulDelimiter,
      ...(parseText && parse.decoder ? { textDecoder: parse.decoder } : {}),
    });
    const rate = options.rateLimit;
    let tokens = rate;
    let refilled = Date.now();
    let batch: LogRecord[] = [];
    let now = Date.now();
    let fatal = false;
    const rejects = new Map<string, number>();
    let limited = 0;
    const count = (reason: string, detail?: string) => {
      if (!rejects.has(reason)) {
        context.log.warnOnce(
          `source:${context.id}:reject:${reason}`,
          `Source "${context.id}" rejected input from ${peerOf(entry.conn)} (${reason})${
            detail ? `: ${detail}` : ""
          }`,
        );
      }
      rejects.set(reason, (rejects.get(reason) ?? 0) + 1);
    };
    /** Takes a token for one record; false (and counted) when the connection is over its rate. */
    const admit = (): boolean => {
      if (tokens < 1) {
        tokens = Math.min(rate, tokens + (now - refilled) * rate / 1000);
        refilled = now;
        if (tokens < 1) {
          limited++;
          return false;
        }
      }
      tokens--;
      return true;
    };
    const handler: FrameHandler = {
      frame(bytes) {
        if (rate > 0 && !admit()) return;
        try {
          batch.push(parse(bytes, now));
        } catch (error) {
          if (error instanceof ParseError) count(error.reason, error.message);
          else count("parse_error", messageOf(error));
        }
      },
      reject(reason, isFatal) {
        count(reason);
        if (isFatal) fatal = true;
      },
    };
    if (parseText) {
      handler.line = (line) => {
        if (rate > 0 && !admit()) return;
        try {
          batch.push(parseText(line, now));
        } catch (error) {
          if (error instanceof ParseError) count(error.reason, error.message);
          else count("parse_error", messageOf(error));
        }
      };
    }
    // The JSON lines of an ASCII read in one block: the scanner's way where every sink fed
    // writes fields kept as text (SourceContext.fieldsAsText), else each parsed in full.
    const reader = parse.json && parseText
      ? new JsonBlockReader({
        maxLineBytes: options.maxFrameBytes,
        tooLarge: "frame_too_large",
        nulDelimiter: options.nulDelimiter,
      })
      : undefined;
    const rejectLine: JsonBlockReject = (_line, reason, message) => {
      if (reason === "frame_too_large") count(reason);
      else count(reason, message);
    };
    let keepText = false;
    const blockHandler: FrameHandler | undefined = reader && {
      ...handler,
      block(bytes, text) {
        const admitting = rate > 0 ? admit : undefined;
        return reader.read(bytes, text, now, batch, rejectLine, admitting, keepText);
      },
    };
    const flushCounts = () => {
      if (rejects.size > 0) {
        for (const [reason, n] of rejects) context.reject(reason, n);
        rejects.clear();
      }
      if (limited > 0) {
        if (!this.#limitedWarned) {
          this.#limitedWarned = true;
          context.log.warnOnce(
            `source:${context.id}:rate_limited`,
            `Source "${context.id}" is rate-limiting ${peerOf(entry.conn)} to ${rate} records/s`,
          );
        }
        context.reject("rate_limited", limited);
        limited = 0;
      }
    };
    const buffer = new Uint8Array(options.readBytes ?? 65_536);
    let yielded = Date.now();
    try {
      while (!entry.closed) {
        // A read of a socket that always has data settles at once, and a file sink writes
        // synchronously: without a turn of the event loop, one flooding connection kept the
        // HTTP server, timers and the other connections waiting until it ended.
        if (now - yielded >= YIELD_EVERY_MS) {
          await yieldToEventLoop();
          yielded = Date.now();
        }
        let n: number | null;
        try {
          n = await entry.conn.read(buffer);
        } catch (error) {
          if (!entry.closed && !this.#closing && !isReset(error)) {
            this.#connectionErrors.inc();
            context.log.warnOnce(
              `source:${context.id}:read`,
              `Source "${context.id}" lost a connection from ${peerOf(entry.conn)}`,
              error,
            );
          }
          break;
        }
        if (n === null) break;
        now = Date.now();
        entry.lastActive = now;
        if (blockHandler !== undefined) keepText = context.fieldsAsText === true;
        decoder.push(buffer.subarray(0, n), blockHandler ?? handler);
        if (reader !== undefined && reader.taken > 0) {
          this.#scanned.inc(reader.taken);
          reader.taken = 0;
        }
        flushCounts();
        if (batch.length > 0) {
          const records = batch;
          batch = [];
          entry.busy = true;
          await context.emit(records);
          entry.busy = false;
          entry.lastActive = Date.now();
        }
        if (fatal) break;
      }
      if (!fatal) decoder.end(handler);
      flushCounts();
      if (batch.length > 0) await context.emit(batch);
    } finally {
      close(entry);
    }
  }

  #limitedWarned = false;
}

function close(entry: Connection): void {
  if (entry.closed) return;
  entry.closed = true;
  try {
    entry.conn.close();
  } catch {
    // Already closed by the peer.
  }
}

function peerOf(conn: Deno.Conn): string {
  const addr = conn.remoteAddr as Deno.NetAddr;
  return addr.hostname === undefined ? "a peer" : formatAddress(addr);
}

function isReset(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

/**
 * The `tcp` sink: formatted records over a TCP (or TLS) connection, newline-delimited or
 * octet-counted.
 *
 * @module
 */

import { JsonFieldsRecord } from "../../../src/core/json_fields_record.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { type Address, addressSchema, formatAddress } from "../../../src/io/address.ts";
import { encodeFrames } from "./encode_frames.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import { s } from "../../../src/schema/schema.ts";
import { formatErrorReporter } from "../../../src/plugin/format_error_reporter.ts";
import { messageOf } from "../../../src/core/message_of.ts";
import { readTlsFile } from "../../../src/io/read_tls_file.ts";

/**
 * Sends every batch as one write on a long-lived connection. Frames are `newline`-terminated
 * (line breaks inside a record written as `\n`) or `octet_counting` (`LEN SP MSG`, RFC 6587,
 * what syslog receivers such as rsyslog prefer). The connection is opened on the first
 * batch; when the peer closes it or a write fails, the sink reconnects with exponential
 * back-off (from `reconnect.initial` doubling to `reconnect.max`) and jitter, and the batch
 * waits in the sink's bounded queue — after `fallback_after` of failure the `fallback` sink
 * takes what cannot be delivered, and delivery resumes when the peer is back. Log calls
 * never wait for the network: this sink has no synchronous write.
 *
 * The sink watches the connection for the peer closing it, so a peer that shuts down
 * cleanly loses nothing. Plain TCP has no acknowledgements (RFC 6587): what the kernel
 * accepted just before a peer crashed can be lost; this is inherent to the protocol.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   central:
 *     type: tcp
 *     address: logs.internal:6514
 *     framing: octet_counting
 *     format: { type: syslog, rfc: 5424, app_name: payments }
 *     tls: { ca: certs/ca.pem }
 *     buffer: { max_records: 100000 }
 *     fallback: local_file
 *   local_file: { type: file, path: logs/undelivered.log }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "sink",
  type: "tcp",
  description:
    "Formatted records over TCP or TLS, newline or octet-counted, with reconnect, back-off and jitter.",
  options: s.object({
    address: addressSchema().describe("host:port of the receiver."),
    framing: s.enum(["newline", "octet_counting"] as const).default("newline").describe(
      "newline, or octet_counting (RFC 6587) for syslog receivers.",
    ),
    format: s.formatter().default({ type: "json", options: {} }).describe("The formatter."),
    tls: s.object({
      ca: s.string({ minLength: 1 }).optional().describe(
        "CA certificate(s), PEM file; the system's roots when omitted.",
      ),
      server_name: s.string({ minLength: 1 }).optional().describe(
        "Name to verify the certificate against; the address's host when omitted.",
      ),
      cert: s.string({ minLength: 1 }).optional().describe("Client certificate, PEM file."),
      key: s.string({ minLength: 1 }).optional().describe("Client private key, PEM file."),
    }).optional().describe("Connect with TLS."),
    connect_timeout: s.duration().default(10_000).describe("Give up a connection attempt after."),
    write_timeout: s.duration().default(30_000).describe(
      "Drop the connection when a batch cannot be written within this time.",
    ),
    reconnect: s.object({
      initial: s.duration().default(100).describe("First delay after a failure."),
      max: s.duration().default(30_000).describe("Longest delay."),
    }).default({ initial: 100, max: 30_000 }).describe("Reconnect back-off (with jitter)."),
  }),
  permissions(options) {
    const read = options.tls
      ? [options.tls.ca, options.tls.cert, options.tls.key].filter((p) => p !== undefined)
      : [];
    return { net: [formatAddress(options.address)], ...(read.length ? { read } : {}) };
  },
  create(options, context) {
    const format = context.createFormatter(options.format);
    const onFormatError = formatErrorReporter(context);
    const connects = context.counter("connects_total", "Connections a sink opened.");
    const disconnects = context.counter(
      "disconnects_total",
      "Connections a sink lost (peer closed, error or timeout).",
    );
    const tls = options.tls ? readTls(options.tls, context.baseDir, context.id) : undefined;
    const target = formatAddress(options.address);
    const connection = new Connection(options.address, {
      ...(tls ? { tls } : {}),
      connectTimeout: options.connect_timeout,
      initial: options.reconnect.initial,
      max: options.reconnect.max,
      onConnect: () => connects.inc(),
      onDisconnect: () => disconnects.inc(),
    });
    return {
      // Records may keep their fields as JSON text when the formatter writes that text.
      [JsonFieldsRecord.TAKES_TEXT]: JsonFieldsRecord.takesText(format),
      async write(records: readonly LogRecord[]) {
        const bytes = encodeFrames(records, format, options.framing, onFormatError);
        if (bytes.length === 0) return;
        const conn = await connection.get(target, context.id);
        try {
          await withTimeout(writeAll(conn, bytes), options.write_timeout, () =>
            new Error(
              `Cannot send to ${target}: write did not finish within ${options.write_timeout} ms`,
            ));
        } catch (error) {
          connection.drop(conn);
          throw new Error(
            `Cannot send to ${target} for sink "${context.id}": ${messageOf(error)}`,
            { cause: error },
          );
        }
        connection.succeeded();
      },
      async [Symbol.asyncDispose]() {
        await connection.close();
      },
    };
  },
});

interface TlsSettings {
  caCerts?: string[];
  serverName?: string;
  cert?: string;
  key?: string;
}

interface ConnectionOptions {
  tls?: TlsSettings;
  connectTimeout: number;
  initial: number;
  max: number;
  onConnect(): void;
  onDisconnect(): void;
}

/** One reconnecting connection with back-off, jitter and a watcher for the peer closing it. */
class Connection {
  #conn: Deno.Conn | undefined;
  #connecting: Promise<Deno.Conn> | undefined;
  #watchers = new Set<Promise<void>>();
  #backoff: number;
  #retryAt = 0;
  #lastError = "";
  #closed = false;

  constructor(readonly address: Address, readonly options: ConnectionOptions) {
    this.#backoff = options.initial;
  }

  /** The open connection, connecting if allowed now; throws during back-off or on failure. */
  get(target: string, id: string): Promise<Deno.Conn> {
    if (this.#conn) return Promise.resolve(this.#conn);
    if (this.#closed) return Promise.reject(new Error(`Sink "${id}" is closed`));
    const wait = this.#retryAt - Date.now();
    if (wait > 0) {
      return Promise.reject(
        new Error(
          `Cannot send to ${target} for sink "${id}": reconnecting in ${wait} ms (${this.#lastError})`,
        ),
      );
    }
    return this.#connecting ??= this.#connect().then((conn) => {
      this.#connecting = undefined;
      return conn;
    }, (error) => {
      this.#connecting = undefined;
      this.#failed(messageOf(error));
      throw new Error(`Cannot connect to ${target} for sink "${id}": ${messageOf(error)}`, {
        cause: error,
      });
    });
  }

  /** A batch went through: the back-off starts over. */
  succeeded(): void {
    this.#backoff = this.options.initial;
  }

  /** Closes a connection that failed and schedules the next attempt. */
  drop(conn: Deno.Conn, reason = "write failed"): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.options.onDisconnect();
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    this.#failed(reason);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const connecting = this.#connecting;
    if (connecting) await connecting.catch(() => {});
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.allSettled([...this.#watchers]);
  }

  #failed(reason: string): void {
    this.#lastError = reason;
    // Equal jitter: between half and all of the current delay, so that many senders spread out.
    const delay = this.#backoff / 2 + Math.random() * this.#backoff / 2;
    this.#retryAt = Date.now() + delay;
    this.#backoff = Math.min(this.options.max, this.#backoff * 2);
  }

  async #connect(): Promise<Deno.Conn> {
    const { hostname, port } = this.address;
    const tls = this.options.tls;
    const caCerts = tls?.caCerts ? { caCerts: tls.caCerts } : {};
    const attempt: Promise<Deno.Conn> = !tls
      ? Deno.connect({ hostname, port, transport: "tcp" })
      : tls.serverName !== undefined
      // Verify against another name than the address: connect, then upgrade with that name.
      ? Deno.connect({ hostname, port, transport: "tcp" }).then((plain) =>
        Deno.startTls(plain, { hostname: tls.serverName!, ...caCerts }).catch((error) => {
          plain.close();
          throw error;
        })
      )
      : tls.cert !== undefined && tls.key !== undefined
      ? Deno.connectTls({ hostname, port, ...caCerts, cert: tls.cert, key: tls.key })
      : Deno.connectTls({ hostname, port, ...caCerts });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const conn = await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`connection timed out after ${this.options.connectTimeout} ms`)),
          this.options.connectTimeout,
        );
      }),
    ]).finally(() => clearTimeout(timer)).catch((error) => {
      // A connection that completes after the timeout is closed at once.
      attempt.then((late) => late.close(), () => {});
      throw error;
    });
    if (tls) {
      // Verify the peer now, so that a certificate problem is a failed connection, not a
      // connection that fails on its first write.
      try {
        await (conn as Deno.TlsConn).handshake();
      } catch (error) {
        conn.close();
        throw error;
      }
    }
    if (this.#closed) {
      conn.close();
      throw new Error("sink closed");
    }
    if ("setKeepAlive" in conn) (conn as Deno.TcpConn).setKeepAlive(true);
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    this.#conn = conn;
    this.options.onConnect();
    const watcher = this.#watch(conn).finally(() => this.#watchers.delete(watcher));
    this.#watchers.add(watcher);
    return conn;
  }

  /** Reads (and ignores) what the peer sends, to learn at once when it closes the connection. */
  async #watch(conn: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(4096);
    try {
      while ((await conn.read(buffer)) !== null) {
        // Syslog receivers send nothing; anything else is ignored.
      }
    } catch {
      // Reset or closed by us: handled below.
    }
    if (this.#conn === conn) this.drop(conn, "peer closed the connection");
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(offset === 0 ? bytes : bytes.subarray(offset));
  }
}

async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  error: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(error()), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function readTls(
  tls: {
    ca?: string | undefined;
    server_name?: string | undefined;
    cert?: string | undefined;
    key?: string | undefined;
  },
  baseDir: string,
  id: string,
): TlsSettings {
  const read = (path: string) => readTlsFile(baseDir, path, `sink "${id}"`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new PluginError(`Cannot create sink "${id}": tls.cert and tls.key go together`);
  }
  if (tls.server_name !== undefined && tls.cert !== undefined) {
    throw new PluginError(
      `Cannot create sink "${id}": tls.server_name cannot be combined with a client certificate`,
    );
  }
  return {
    ...(tls.ca ? { caCerts: [read(tls.ca)] } : {}),
    ...(tls.server_name ? { serverName: tls.server_name } : {}),
    ...(tls.cert && tls.key ? { cert: read(tls.cert), key: read(tls.key) } : {}),
  };
}

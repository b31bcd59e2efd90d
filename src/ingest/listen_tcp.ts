/**
 * The one way a network source opens its TCP listener from its options: the tcp, syslog and
 * python sources share the listener options (address, TLS, connection bounds) and differ only
 * in how a connection's bytes become records.
 *
 * @module
 */

import type { Address } from "../io/address.ts";
import type { SourceContext } from "../plugin/types.ts";
import { type ListenerTls, readListenerTls } from "./listener_options.ts";
import { TcpIngest, type TcpIngestOptions } from "./tcp_ingest.ts";

/** The options every listening source has (its `address` and {@linkcode listenerShape}). */
export interface ListenerOptions {
  /** Where to listen. */
  address: Address;
  /** Connections beyond this many are refused. */
  max_connections: number;
  /** Idle connections are closed after this long (ms); 0 never. */
  idle_timeout: number;
  /** Records per second per connection; 0 unlimited. */
  rate_limit: number;
  /** TLS files, relative to the config file. */
  tls?: ListenerTls | undefined;
}

/** How a source reads its connections: the part of {@linkcode TcpIngestOptions} it decides. */
export type TcpReading = Pick<
  TcpIngestOptions,
  "framing" | "nulDelimiter" | "maxFrameBytes" | "parse"
>;

/**
 * Creates the TCP listener of a source from its listener options and how it reads frames.
 * TLS files are read now, so that a missing one fails the source's creation with its path.
 *
 * @example A missing TLS file fails creation with its path
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenTcp } from "./listen_tcp.ts";
 * import { createFrameParser } from "./frame_parser.ts";
 * const context = { id: "in", baseDir: "/nowhere", counter: () => ({ inc() {}, value: 0 }) };
 * const options = {
 *   address: { hostname: "127.0.0.1", port: 0 },
 *   max_connections: 8,
 *   idle_timeout: 0,
 *   rate_limit: 0,
 *   tls: { cert: "cert.pem", key: "key.pem" },
 * };
 * const reading = {
 *   framing: "newline" as const,
 *   nulDelimiter: false,
 *   maxFrameBytes: 1024,
 *   parse: createFrameParser({ format: "text", invalidUtf8: "reject" }),
 * };
 * assert.throws(
 *   () => listenTcp(options, context as never, reading),
 *   /Cannot create source "in": cannot read TLS file "\/nowhere\/cert.pem"/,
 * );
 * const plain = listenTcp({ ...options, tls: undefined }, context as never, reading);
 * assert.equal(plain.connections, 0);
 * await plain[Symbol.asyncDispose]();
 * ```
 */
export function listenTcp(
  options: ListenerOptions,
  context: SourceContext,
  reading: TcpReading,
): TcpIngest {
  return new TcpIngest({
    address: options.address,
    ...(options.tls ? { tls: readListenerTls(options.tls, context.baseDir, context.id)! } : {}),
    maxConnections: options.max_connections,
    idleTimeout: options.idle_timeout,
    rateLimit: options.rate_limit,
    ...reading,
  }, context);
}

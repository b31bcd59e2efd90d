/**
 * Options every TCP-listening source shares (`tcp`, `syslog`, `python`), and reading their
 * TLS files.
 *
 * @module
 */

import { s, type Schema } from "../schema/schema.ts";
import type { PluginPermissions } from "../plugin/types.ts";
import { type Address, formatAddress } from "../io/address.ts";
import { readTlsFile } from "../io/read_tls_file.ts";

/** The TLS option of a listening source: PEM files, relative to the config file. */
export interface ListenerTls {
  /** The certificate chain (PEM). */
  cert: string;
  /** The private key (PEM). */
  key: string;
}

/** The listener options' schemas, to spread into a source's `s.object({...})`. */
export interface ListenerShape {
  /** At this many connections the longest-idle one makes way; refused when none is idle. */
  max_connections: Schema<number>;
  /** Idle connections are closed after this long; 0 never. */
  idle_timeout: Schema<number>;
  /** Records per second per connection; 0 unlimited. */
  rate_limit: Schema<number>;
  /** Accept TLS with these files. */
  tls: Schema<ListenerTls | undefined>;
}

/**
 * The shared listener options, with their defaults: `max_connections` 1024 (at the limit the
 * longest-idle connection is closed for the new one), `idle_timeout` 5 minutes, `rate_limit` 0
 * (unlimited), `tls` off.
 *
 * Why 5 minutes: a peer that crashed or lost its route never sends a FIN, so without a
 * timeout its descriptor is held for ever. A sender whose idle connection is closed reconnects on
 * its next record, but syslog and Python's SocketHandler lose the record written into a
 * connection the server already closed, so the timeout must be longer than the quiet spells
 * of live senders (heartbeats and cron jobs log every minute or few) yet return dead peers'
 * descriptors within minutes. Eviction at `max_connections` keeps the door open regardless.
 *
 * @example Spread into a source's options
 * ```ts
 * import { listenerShape } from "./listener_options.ts";
 * import { s } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const options = s.object({ ...listenerShape() });
 * assert.ok(options.parse({}, [], { issues: [] })?.max_connections === 1024);
 * ```
 */
export function listenerShape(): ListenerShape {
  return {
    max_connections: s.integer({ min: 1 }).default(1024).describe(
      "Most open connections; at the limit the longest-idle one is closed for a new one (evicted), or the new one refused when none is idle (too_many_connections).",
    ),
    idle_timeout: s.duration().default(300_000).describe(
      "Close a connection idle this long (default 5m, counted as idle_timeout); 0 keeps it open.",
    ),
    rate_limit: s.integer({ min: 0 }).default(0).describe(
      "Most records per second per connection (excess rejected as rate_limited); 0 is unlimited.",
    ),
    tls: s.object({
      cert: s.string({ minLength: 1 }).describe("Certificate chain, PEM file."),
      key: s.string({ minLength: 1 }).describe("Private key, PEM file."),
    }).optional().describe("Accept TLS connections instead of plain TCP."),
  };
}

/**
 * Reads the TLS files of a listener (relative to `baseDir`), or returns `undefined` without
 * TLS. Throws a {@linkcode PluginError} naming the source and file when one cannot be read.
 *
 * @example Without TLS
 * ```ts
 * import { readListenerTls } from "./listener_options.ts";
 * import assert from "node:assert/strict";
 * assert.ok(readListenerTls(undefined, ".", "in") === undefined);
 * ```
 */
export function readListenerTls(
  tls: ListenerTls | undefined,
  baseDir: string,
  id: string,
): { cert: string; key: string } | undefined {
  if (!tls) return undefined;
  const read = (path: string) => readTlsFile(baseDir, path, `source "${id}"`);
  return { cert: read(tls.cert), key: read(tls.key) };
}

/**
 * What a listening source needs for `sluice permissions`: its address, and its TLS files.
 *
 * @example A plain TCP listener
 * ```ts
 * import { listenerPermissions } from "./listener_options.ts";
 * import assert from "node:assert/strict";
 * const needs = listenerPermissions({ address: { hostname: "127.0.0.1", port: 9000 } });
 * assert.ok(needs.net?.[0] === "127.0.0.1:9000" && needs.read === undefined);
 * ```
 */
export function listenerPermissions(
  options: { address: Address; tls?: ListenerTls | undefined },
): PluginPermissions {
  return {
    net: [formatAddress(options.address)],
    ...(options.tls ? { read: [options.tls.cert, options.tls.key] } : {}),
  };
}

/**
 * Binding the Sluice app to a port. The only place that listens.
 *
 * @module
 */

import type { Hono } from "hono";
import type { InternalLog } from "../plugin/types.ts";
import type { ServerEnv } from "./app.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** Host to bind; `127.0.0.1` by default. */
  hostname?: string;
  /** Port to bind; 9600 by default, 0 picks a free one. */
  port?: number;
  /** Stops the server when aborted (in-flight requests finish first). */
  signal?: AbortSignal;
  /** Where the startup notice and warnings go (the pipeline's internal log). */
  log?: InternalLog;
  /** Whether the app requires a bearer token (`server.token`); a public bind without one is warned about. */
  authenticated?: boolean;
}

/**
 * Whether a host name or address only reaches this machine.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./serve.ts";
 * console.assert(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost"));
 * console.assert(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.5"));
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host) ||
    host === "::ffff:127.0.0.1";
}

/**
 * Serves the app with `Deno.serve` on `hostname:port` (127.0.0.1:9600 by default), passing
 * each client's address to the app (for per-client rate limits). Binding an address other
 * than loopback while the app has no token logs a warning. Returns once listening (it
 * throws when the address is taken); the returned server's `addr` has the bound port and `finished` settles after `signal` aborts
 * (or `shutdown()`).
 *
 * @example Serve on a free loopback port, probe, stop
 * ```ts
 * import { createApp } from "./app.ts";
 * import { serve } from "./serve.ts";
 * import { loadConfig, Pipeline } from "../../mod.ts";
 * const { config, formatters } = await loadConfig({ sinks: { mem: { type: "memory" } } });
 * await using pipeline = await Pipeline.create(config, { formatters });
 * const stop = new AbortController();
 * const server = serve(createApp(pipeline), { port: 0, signal: stop.signal, log: pipeline.log });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * console.assert(res.status === 200);
 * await res.body?.cancel();
 * stop.abort();
 * await server.finished;
 * ```
 */
export function serve(
  app: Hono<ServerEnv>,
  options: ServeOptions = {},
): Deno.HttpServer<Deno.NetAddr> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 9600;
  const log = options.log;
  if (!isLoopback(hostname) && !options.authenticated) {
    const message =
      `The server binds ${hostname}, which is reachable from other machines, without a token; ` +
      "set server.token (for example ${SLUICE_TOKEN}) to require one on ingest and metrics";
    if (log) log.warnOnce("server:public-without-token", message);
    else console.warn(`sluice WARN ${message}`);
  }
  // Deno.serve binds before it returns (and throws when the address is taken).
  return Deno.serve({
    hostname,
    port,
    ...(options.signal ? { signal: options.signal } : {}),
    onListen(addr) {
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      log?.info(`Server listening on http://${host}:${addr.port}`);
    },
  }, (request, info) => app.fetch(request, info));
}

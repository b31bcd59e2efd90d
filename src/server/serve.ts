/**
 * Binding the Sluice app to a port. The only place that listens.
 *
 * @module
 */

// Full npm: specifiers, not import map names: a user's script imports this package from
// anywhere, by path or URL, where no import map names them (tests/package/).
// deno-lint-ignore-file no-import-prefix
import type { Hono } from "npm:hono@^4.13.19";
import type { Metrics } from "../pipeline/metrics.ts";
import type { InternalLog } from "../plugin/types.ts";
import type { ServerEnv } from "./app.ts";
import { type Http1Limits, Http1Server } from "./http1_server.ts";

/** The server's connection limits when the config sets none (`server:` in docs/config.md). */
export const DEFAULT_LIMITS: Readonly<Http1Limits> = {
  // 512 connections stay under the common soft descriptor limit of 1024 with room for files
  // and the sources' sockets.
  maxConnections: 512,
  headerTimeout: 10_000,
  bodyTimeout: 30_000,
  idleTimeout: 5_000,
  maxHeaderBytes: 64 * 1024,
};

/** The running server: its address, and how to stop it. */
export interface RunningServer extends AsyncDisposable {
  /** The bound address (with the port picked for port 0). */
  readonly addr: Deno.NetAddr;
  /** Settles after the signal aborted or `shutdown()` was called and every connection closed. */
  readonly finished: Promise<void>;
  /** Open connections. */
  readonly connections: number;
  /** Stops accepting, lets running requests finish, closes every connection. */
  shutdown(): Promise<void>;
}

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
  /** Connection limits and timeouts; {@linkcode DEFAULT_LIMITS} fill what is missing. */
  limits?: Partial<Http1Limits>;
  /** Where closed connections and accept errors are counted (the pipeline's metrics). */
  metrics?: Pick<Metrics, "counter">;
}

/**
 * Whether a host name or address only reaches this machine.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./serve.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost"));
 * assert.ok(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.5"));
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host) ||
    host === "::ffff:127.0.0.1";
}

/**
 * Serves the app on `hostname:port` (127.0.0.1:9600 by default) with a bounded HTTP/1.1
 * server ({@linkcode Http1Server}), passing each client's address to the app (for per-client
 * rate limits). Connections beyond `limits.maxConnections` make the longest-idle keep-alive
 * connection close, else are answered 503 with `Retry-After: 1` and closed (after up to
 * 0.5 s for their request to arrive: an HTTP client answered before it sent anything takes
 * the 503 for a broken connection); a request whose headers take longer
 * than `headerTimeout`, a body that pauses longer than `bodyTimeout` and a keep-alive
 * connection idle longer than `idleTimeout` are closed. Each is counted in
 * `sluice_http_connections_closed_total{reason}`; a failing `accept` (EMFILE, ENFILE) in
 * `sluice_http_accept_errors_total` and said once, and the listener keeps accepting. Binding
 * an address other than loopback while the app has no token logs a warning. Returns once
 * listening (it throws when the address is taken); `finished` settles after `signal` aborts
 * (or `shutdown()`).
 *
 * @example Serve on a free loopback port, probe, stop
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.ts";
 * import { serve } from "./serve.ts";
 * import { loadConfig, Pipeline } from "../../mod.ts";
 * const { config, formatters } = await loadConfig({ sinks: { mem: { type: "memory" } } });
 * await using pipeline = await Pipeline.create(config, { formatters });
 * const stop = new AbortController();
 * const server = serve(createApp(pipeline), {
 *   port: 0, signal: stop.signal, log: pipeline.log, metrics: pipeline.metrics,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * stop.abort();
 * await server.finished;
 * ```
 */
export function serve(
  app: Pick<Hono<ServerEnv>, "fetch">,
  options: ServeOptions = {},
): RunningServer {
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
  const metrics = options.metrics;
  const server = new Http1Server({
    hostname,
    port,
    ...DEFAULT_LIMITS,
    ...options.limits,
    events: {
      closed(reason) {
        metrics?.counter(
          "http_connections_closed_total",
          "Connections the server closed, by reason (limit, eviction, timeouts).",
          { reason },
        ).inc();
        if (reason === "too_many_connections") {
          log?.warnOnce(
            "server:max_connections",
            `The server refused a connection: ${server.connections} already open (server.max_connections)`,
          );
        }
      },
      acceptError(error) {
        metrics?.counter(
          "http_accept_errors_total",
          "Failed accepts of the server's listener (such as too many open files).",
        ).inc();
        log?.warnOnce(
          "server:accept",
          "The server failed to accept a connection; it retries",
          error,
        );
      },
      badRequest(reason) {
        metrics?.counter("http_rejections_total", "HTTP requests refused, by reason.", { reason })
          .inc();
      },
    },
  }, (request, info) => app.fetch(request, info));
  server.start();
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  log?.info(`Server listening on http://${host}:${addr.port}`);
  options.signal?.addEventListener("abort", () => server.shutdown(), { once: true });
  if (options.signal?.aborted) server.shutdown();
  return server;
}

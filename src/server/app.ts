/**
 * The Sluice server's routes as a Hono app: health, readiness, metrics and the sources'
 * ingest routes, locked down by default. Pure: nothing binds here (see `serve()`).
 *
 * @module
 */

// Full npm: specifiers, not import map names: a user's script imports this package from
// anywhere, by path or URL, where no import map names them (tests/package/).
// deno-lint-ignore-file no-import-prefix
import { Hono } from "npm:hono@^4.13.19";
import type { Context, MiddlewareHandler } from "npm:hono@^4.13.19";
import type { ServerConfig } from "../config/types.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { Route } from "../plugin/types.ts";
import { createAuthGuard } from "./auth_guard.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { readLimited, TOO_LARGE } from "./read_limited.ts";
import { DEFAULT_LIMITS } from "./serve.ts";
import { liveResponse } from "./live.ts";
import { renderProcessMetrics } from "./process_metrics.ts";
import { addDashboard, DASHBOARD_PATHS } from "./dashboard/dashboard.ts";

/** What the app needs of a pipeline (a {@linkcode Pipeline} has all of it). */
export type AppPipeline = Pick<
  Pipeline,
  "config" | "metrics" | "routes" | "health" | "log" | "stats" | "sinks" | "tap"
>;

/** What `serve()` passes with each request: the client's address, and a way to read the body. */
export interface ServerBindings {
  /** The remote address (Deno's `ServeHandlerInfo.remoteAddr`). */
  remoteAddr?: { hostname?: string };
  /** Reads the body whole without its stream (`Http1Info.readBody`); absent, the stream is read. */
  readBody?: (limit: number) => Promise<Uint8Array<ArrayBuffer> | typeof TOO_LARGE>;
}

/** The Hono environment of the Sluice app. */
export interface ServerEnv {
  /** Per-request bindings. */
  Bindings: ServerBindings;
}

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** The clock for rate limiting in epoch ms; `Date.now` by default. */
  now?: () => number;
}

/** The server settings used when the config has no `server:` section. */
export const DEFAULT_SERVER: Readonly<ServerConfig> = {
  hostname: "127.0.0.1",
  port: 9600,
  max_body_bytes: 10 * 1024 * 1024,
  max_connections: DEFAULT_LIMITS.maxConnections,
  header_timeout: DEFAULT_LIMITS.headerTimeout,
  body_timeout: DEFAULT_LIMITS.bodyTimeout,
  idle_timeout: DEFAULT_LIMITS.idleTimeout,
  rate_limit: { requests_per_second: 1000, burst: 2000 },
  auth_failures: { max: 10, window: 60_000 },
};

/** Headers set on every response. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["X-Content-Type-Options", "nosniff"],
  ["Cache-Control", "no-store"],
  ["Content-Security-Policy", "default-src 'none'"],
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "no-referrer"],
];

/** Sets {@linkcode SECURITY_HEADERS}, keeping a route's own Content-Security-Policy (the dashboard's). */
function setSecurityHeaders(headers: Headers): void {
  for (const [name, value] of SECURITY_HEADERS) {
    if (name === "Content-Security-Policy" && headers.has(name)) continue;
    headers.set(name, value);
  }
}

const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const OWN_PATHS = ["/health", "/ready", "/metrics", "/stats", "/live", ...DASHBOARD_PATHS];

/**
 * Builds the server app of a pipeline:
 *
 * - `GET /health`: liveness, always 200 `{"status":"ok"}`.
 * - `GET /ready`: 200 `{"status":"ready"}`, or 503 with `components` naming every failing or
 *   saturated component.
 * - `GET /metrics`: Prometheus text (version 0.0.4).
 * - `GET /stats`: the analysis of every `stats` sink as JSON, keyed by sink id;
 *   `GET /stats/<id>` one sink's (404 naming the stats sinks there are, for any other id).
 * - `GET /live`: a server-sent event stream of records, component counters and the analysis,
 *   for `sluice tap`, `sluice top` and the dashboard (see `liveResponse()` in `./live.ts`).
 * - `GET /`: the dashboard, a page reading `/live` and `/stats`, with its scripts under
 *   `/dashboard/` (see `addDashboard()` in `./dashboard/dashboard.ts`).
 * - every route the pipeline's sources serve (the `http` source's ingest route).
 *
 * With `server.token`, ingest, metrics, stats and live routes require `Authorization: Bearer <token>`
 * (compared in constant time); a client that fails `server.auth_failures.max` times within its
 * `window` is answered 429 with `Retry-After` on them (see `createAuthGuard()` in
 * `./auth_guard.ts`). Health, readiness and the dashboard's static page stay open (the page
 * holds no data and sends the token it is given to `/live` and `/stats`). Ingest bodies
 * above `server.max_body_bytes` are refused with 413 while they stream, and each client
 * address has a token bucket (`server.rate_limit`; 429 with `Retry-After`). Every request is
 * counted in `sluice_http_server_requests_total{route,status}` and every refusal in
 * `sluice_http_rejections_total{reason}`. Errors answer a JSON message, never a stack, and
 * every response carries {@linkcode SECURITY_HEADERS}.
 *
 * @example Probe health and metrics without binding a port
 * ```ts
 * import { createApp } from "./app.ts";
 * import { loadConfig, Pipeline } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const { config, formatters } = await loadConfig({ sinks: { mem: { type: "memory" } } });
 * await using pipeline = await Pipeline.create(config, { formatters });
 * const app = createApp(pipeline);
 * const health = await app.request("/health");
 * assert.ok(health.status === 200);
 * assert.ok(health.headers.get("x-content-type-options") === "nosniff");
 * const metrics = await (await app.request("/metrics")).text();
 * assert.ok(metrics.includes("sluice_uptime_seconds"));
 * ```
 */
export function createApp(pipeline: AppPipeline, options: AppOptions = {}): Hono<ServerEnv> {
  const server = pipeline.config.server ?? DEFAULT_SERVER;
  const metrics = pipeline.metrics;
  const app = new Hono<ServerEnv>();
  const routes = pipeline.routes.filter((route) => {
    if (!OWN_PATHS.includes(route.path)) return true;
    pipeline.log.warnOnce(
      `server:route:${route.path}`,
      `A source route "${route.path}" clashes with the server's own route; it is not served`,
    );
    return false;
  });
  const known = new Set([...OWN_PATHS, ...routes.map((r) => r.path)]);

  const reject = (reason: string) =>
    metrics.counter("http_rejections_total", "HTTP requests refused, by reason.", { reason }).inc();
  const problem = (
    c: Context<ServerEnv>,
    status: 413 | 429,
    reason: string,
    text: string,
  ) => {
    reject(reason);
    return c.json({ error: text }, status);
  };

  // The counter of each route and status, looked up once (a lookup builds its label key).
  const requests = new Map<string, { inc(): void }>();
  app.use("*", async (c, next) => {
    await next();
    let res = c.res;
    try {
      setSecurityHeaders(res.headers);
    } catch {
      // Immutable headers (a fetched or static response): copy it into a mutable one.
      res = new Response(res.body, {
        status: res.status,
        statusText: res.statusText,
        headers: new Headers(res.headers),
      });
      setSecurityHeaders(res.headers);
      c.res = res;
    }
    const path = c.req.path;
    // One label for every stats sink's route keeps the series bounded.
    const route = known.has(path) ? path : path.startsWith("/stats/") ? "/stats/<id>" : "other";
    const key = `${res.status} ${route}`;
    let answered = requests.get(key);
    if (answered === undefined) {
      answered = metrics.counter(
        "http_server_requests_total",
        "HTTP requests the server answered, by route and status.",
        { route, status: String(res.status) },
      );
      requests.set(key, answered);
    }
    answered.inc();
  });

  const failures = server.auth_failures ?? DEFAULT_SERVER.auth_failures!;
  const auth = createAuthGuard<ServerEnv>({
    ...(server.token !== undefined ? { token: server.token } : {}),
    maxFailures: failures.max,
    window: failures.window,
    reject,
    ...(options.now ? { now: options.now } : {}),
  });

  const limiter = new RateLimiter({
    requestsPerSecond: server.rate_limit.requests_per_second,
    burst: server.rate_limit.burst,
    ...(options.now ? { now: options.now } : {}),
  });
  const rateLimit: MiddlewareHandler<ServerEnv> = async (c, next) => {
    const wait = limiter.take(c.env?.remoteAddr?.hostname ?? "unknown");
    if (wait > 0) {
      c.header("Retry-After", String(Math.max(1, Math.ceil(wait))));
      return problem(c, 429, "rate_limited", "Too many requests; retry later");
    }
    await next();
  };

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", (c) => {
    const components = pipeline.health();
    if (components.length === 0) return c.json({ status: "ready" });
    return c.json({ status: "unavailable", components }, 503);
  });
  app.get(
    "/metrics",
    auth,
    (c) =>
      c.body(metrics.render() + renderProcessMetrics(), 200, { "Content-Type": PROMETHEUS_TYPE }),
  );

  app.get("/stats", auth, (c) => c.json(Object.fromEntries(pipeline.stats())));
  app.get("/stats/:id", auth, (c) => {
    const id = c.req.param("id");
    const all = pipeline.stats();
    const one = all.get(id);
    if (one !== undefined) return c.json(one);
    const known = [...all.keys()].map((k) => `"${k}"`).join(", ") || "none";
    return c.json({ error: `No stats sink "${id}" (stats sinks: ${known})` }, 404);
  });

  app.get("/live", auth, (c) => liveResponse(c, pipeline, options.now));
  addDashboard(app);

  for (const route of routes) {
    app.on([...route.methods], route.path, rateLimit, auth, (c) => ingest(c, route));
  }

  const limit = server.max_body_bytes;
  const tooLarge = (c: Context<ServerEnv>) =>
    problem(c, 413, "body_too_large", `Request body exceeds the limit of ${limit} bytes`);
  async function ingest(c: Context<ServerEnv>, route: Route): Promise<Response> {
    const raw = c.req.raw;
    const declared = Number(raw.headers.get("content-length") ?? NaN);
    if (declared > limit) return tooLarge(c);
    let body: Uint8Array<ArrayBuffer> | typeof TOO_LARGE;
    try {
      const read = c.env?.readBody;
      body = read ? await read(limit) : await readLimited(raw.body, limit);
    } catch {
      reject("body_unreadable");
      return c.json({ error: "Cannot read the request body" }, 400);
    }
    if (body === TOO_LARGE) return tooLarge(c);
    if (route.handleBody) return await route.handleBody(raw, body);
    const headers = new Headers(raw.headers);
    headers.delete("content-length");
    headers.delete("transfer-encoding");
    const init: RequestInit = { method: raw.method, headers };
    if (raw.method !== "GET" && raw.method !== "HEAD") init.body = body;
    return await route.handle(new Request(raw.url, init));
  }

  app.notFound((c) => c.json({ error: "Not found" }, 404));
  app.onError((error, c) => {
    pipeline.log.warnOnce(
      `server:error:${c.req.path}`,
      `HTTP handler for ${c.req.method} ${c.req.path} failed`,
      error,
    );
    return c.json({ error: "Internal server error" }, 500);
  });
  return app;
}

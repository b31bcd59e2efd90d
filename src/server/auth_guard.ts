/**
 * The bearer-token guard of the server's authenticated routes, with a per-client limit on
 * failed authentications.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { createBearerCheck } from "./bearer_check.ts";
import { RateLimiter } from "./rate_limiter.ts";

/** Options of {@linkcode createAuthGuard}. */
export interface AuthGuardOptions {
  /** The token every request must present; without one every request passes. */
  token?: string;
  /** Failed authentications a client may make within `window` before it is refused. */
  maxFailures: number;
  /** The window of `maxFailures`, in ms. */
  window: number;
  /** Counts a refusal by reason (`unauthorized`, `auth_failures`). */
  reject: (reason: string) => void;
  /** The clock in epoch ms; `Date.now` by default. */
  now?: () => number;
}

/** What the guard reads of a request's bindings: the client's address. */
interface GuardEnv {
  Bindings: { remoteAddr?: { hostname?: string } };
}

/**
 * Makes the middleware that lets a request through only with `Authorization: Bearer
 * <token>`. A wrong or missing token answers 401 and spends one of the client's
 * `maxFailures` per `window` (a token bucket per remote address, refilled evenly over the
 * window); a client with none left answers 429 with `Retry-After`, before its token is
 * looked at, so guessing slows to `maxFailures` per `window`. Refusals are counted by
 * `reject` as `unauthorized` and `auth_failures`.
 *
 * @example The fourth wrong token of a client is refused with 429
 * ```ts
 * import { Hono } from "hono";
 * import { createAuthGuard } from "./auth_guard.ts";
 * import assert from "node:assert/strict";
 * const reasons: string[] = [];
 * const guard = createAuthGuard({
 *   token: "a-long-enough-token",
 *   maxFailures: 3,
 *   window: 60_000,
 *   reject: (reason) => reasons.push(reason),
 * });
 * const app = new Hono().get("/metrics", guard, (c) => c.text("ok"));
 * const wrong = { headers: { authorization: "Bearer guess" } };
 * for (let i = 0; i < 3; i++) assert.equal((await app.request("/metrics", wrong)).status, 401);
 * const limited = await app.request("/metrics", wrong);
 * assert.equal(limited.status, 429);
 * assert.equal(limited.headers.get("retry-after"), "20");
 * assert.deepEqual(reasons, ["unauthorized", "unauthorized", "unauthorized", "auth_failures"]);
 * ```
 */
export function createAuthGuard<E extends GuardEnv>(
  options: AuthGuardOptions,
): MiddlewareHandler<E> {
  const { token, reject } = options;
  if (token === undefined) return async (_c, next) => await next();
  const check = createBearerCheck(token);
  const failures = new RateLimiter({
    requestsPerSecond: options.maxFailures / (options.window / 1000),
    burst: options.maxFailures,
    ...(options.now ? { now: options.now } : {}),
  });
  return async (c: Context<E>, next) => {
    const client = c.env?.remoteAddr?.hostname ?? "unknown";
    const wait = failures.wait(client);
    if (wait > 0) {
      reject("auth_failures");
      c.header("Retry-After", String(Math.max(1, Math.ceil(wait))));
      return c.json({ error: "Too many failed authentications; retry later" }, 429);
    }
    if (!(await check(c.req.header("authorization")))) {
      failures.take(client);
      reject("unauthorized");
      c.header("WWW-Authenticate", 'Bearer realm="sluice"');
      return c.json({ error: "A valid bearer token is required" }, 401);
    }
    await next();
  };
}

/**
 * Sluice for Hono apps (`import { requestLogger } from "jsr:@sluice/sluice/hono"`): every
 * request traced with W3C Trace Context, its records tagged with the trace and a request id,
 * one access record per request. Configure where records go with `configure()` from the main
 * entry point.
 *
 * @example Log a Hono app's requests
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { requestLogger } from "./mod.ts";
 * const app = new Hono();
 * app.use(requestLogger({ logger: "api", skip: ["/health"] }));
 * app.get("/health", (c) => c.text("ok"));
 * const res = await app.request("/health");
 * assert.equal(res.headers.get("traceparent"), null);
 * ```
 *
 * @module
 */

export {
  type RequestContext,
  requestLogger,
  type RequestLoggerOptions,
  type RequestMiddleware,
} from "./request_logger.ts";
export { currentTrace, traceparent, withSpan } from "../logger/span.ts";

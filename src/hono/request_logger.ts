/**
 * The Hono middleware: W3C trace context and a request id for everything a request logs,
 * and one access record per request.
 *
 * @module
 */

import { formatTraceparent, parseTraceparent } from "../core/traceparent.ts";
import { currentPipeline } from "../library/configure.ts";
import { withContext } from "../logger/context.ts";
import { getLogger } from "../logger/logger.ts";
import { childSpan, currentTrace, runInSpan } from "../logger/span.ts";

/**
 * What the middleware uses of a Hono `Context` (any Hono app's context is one); written out
 * so that the published types do not depend on Hono's.
 */
export interface RequestContext {
  /** The request. */
  readonly req: {
    /** The path, without the query string. */
    readonly path: string;
    /** The method, upper case. */
    readonly method: string;
    /** A request header. */
    header(name: string): string | undefined;
  };
  /** The response, replaced by the middleware's once the handler is done. */
  res: Response;
  /** The error a handler threw, when Hono's error handler answered it. */
  readonly error: Error | undefined;
}

/** A Hono middleware (`app.use()` takes it). */
export type RequestMiddleware = (c: RequestContext, next: () => Promise<void>) => Promise<void>;

/** Options of {@linkcode requestLogger}. */
export interface RequestLoggerOptions {
  /** The logger of the access records (default `"http"`). */
  logger?: string;
  /** The header read for the caller's span and answered with the request's (default `traceparent`). */
  traceparentHeader?: string;
  /**
   * The request id header (default `x-request-id`): an incoming value of 1-128 characters
   * from `A-Za-z0-9._:-` is kept, anything else replaced by a new UUID; the response carries it.
   */
  requestIdHeader?: string;
  /** The context field of the request id (default `request_id`). */
  requestIdField?: string;
  /**
   * Requests left alone (no span, no headers, no access record): exact paths such as
   * `["/health", "/ready"]`, or a function of the Hono context.
   */
  skip?: readonly string[] | ((c: RequestContext) => boolean);
}

/** Request ids a caller may choose: short, and nothing a log line or header could be hurt by. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Traces and logs every request of a Hono app. For each request it reads the incoming
 * `traceparent` (a malformed one starts a new trace, marked `traceparent_invalid: true` on the
 * access record and counted in the configured pipeline's
 * `sluice_http_traceparent_invalid_total{logger}`), starts the request's span as a child of it
 * (or of an active OpenTelemetry span, or as a new trace), and runs the rest of the chain inside
 * that span with the request id in the context: everything logged while handling carries
 * `trace_id`, `span_id`, `parent_span_id` and `request_id`. The response carries `traceparent`
 * (the request's span, for the caller to link to) and the request id header.
 *
 * When the response body has been sent (or the client went away: `aborted: true`), one access
 * record is logged: message `GET /path 200 3.1ms`, fields `method`, `path` (without the query
 * string, which may hold secrets), `status`, `duration_ms` (until the body ended) and `bytes`
 * (of the body), at ERROR for 5xx (with the handler's error), WARN for 4xx and INFO otherwise.
 *
 * @example Trace a request and read its headers
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { requestLogger } from "./request_logger.ts";
 * import { currentTrace } from "../logger/span.ts";
 * const app = new Hono();
 * app.use(requestLogger({ skip: ["/health"] }));
 * app.get("/hello", (c) => c.text(currentTrace()!.trace_id));
 * const res = await app.request("/hello", {
 *   headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
 * });
 * assert.equal(await res.text(), "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.match(res.headers.get("traceparent")!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
 * assert.ok(res.headers.get("x-request-id"));
 * ```
 */
export function requestLogger(options: RequestLoggerOptions = {}): RequestMiddleware {
  const name = options.logger ?? "http";
  const log = getLogger(name);
  const traceHeader = options.traceparentHeader ?? "traceparent";
  const idHeader = options.requestIdHeader ?? "x-request-id";
  const idField = options.requestIdField ?? "request_id";
  const skip = options.skip;
  const skipped: (c: RequestContext) => boolean = skip === undefined
    ? () => false
    : typeof skip === "function"
    ? skip
    : ((paths) => (c: RequestContext) => paths.has(c.req.path))(new Set(skip));

  return async function sluiceRequestLogger(c, next) {
    if (skipped(c)) return void await next();
    const started = performance.now();
    const incoming = c.req.header(traceHeader);
    const parent = parseTraceparent(incoming);
    const invalid = incoming !== undefined && parent === undefined;
    if (invalid) {
      currentPipeline()?.metrics.counter(
        "http_traceparent_invalid_total",
        "Incoming traceparent headers that were malformed (a new trace was started).",
        { logger: name },
      ).inc();
    }
    const span = childSpan(parent ?? currentTrace());
    const offered = c.req.header(idHeader);
    const requestId = offered !== undefined && SAFE_REQUEST_ID.test(offered)
      ? offered
      : crypto.randomUUID();
    const context = { [idField]: requestId };

    try {
      await runInSpan(span, () => withContext(context, next));
    } catch (error) {
      // Only without an error handler does Hono let a handler's error through to here.
      runInSpan(span, () =>
        withContext(context, () =>
          logAccess(
            log,
            {
              method: c.req.method,
              path: c.req.path,
              status: 500,
              error: error instanceof Error ? error : new Error(String(error)),
              invalid,
            },
            started,
            0,
            false,
          )));
      throw error;
    }

    const res = c.res;
    const headers = new Headers(res.headers);
    headers.set(traceHeader, formatTraceparent(span));
    headers.set(idHeader, requestId);
    const access = {
      method: c.req.method,
      path: c.req.path,
      status: res.status,
      error: c.error,
      invalid,
    };
    const finish = (bytes: number, aborted: boolean) =>
      runInSpan(
        span,
        () => withContext(context, () => logAccess(log, access, started, bytes, aborted)),
      );
    const body = res.body;
    if (body === null) {
      finish(0, false);
      c.res = new Response(null, { status: res.status, statusText: res.statusText, headers });
      return;
    }
    c.res = new Response(countBytes(body, finish), {
      status: res.status,
      statusText: res.statusText,
      headers,
    });
  };
}

interface Access {
  method: string;
  path: string;
  status: number;
  error: Error | undefined;
  invalid: boolean;
}

function logAccess(
  log: ReturnType<typeof getLogger>,
  access: Access,
  started: number,
  bytes: number,
  aborted: boolean,
): void {
  const status = access.status;
  const level = status >= 500 ? 40 : status >= 400 ? 30 : 20;
  if (!log.isEnabled(level)) return;
  const duration = Math.round((performance.now() - started) * 1000) / 1000;
  const fields: Record<string, unknown> = {
    method: access.method,
    path: access.path,
    status,
    duration_ms: duration,
    bytes,
  };
  if (aborted) fields.aborted = true;
  if (access.invalid) fields.traceparent_invalid = true;
  if (access.error !== undefined) fields.error = access.error;
  log.log(level, `${access.method} ${access.path} ${status} ${duration}ms`, fields);
}

/** The body passed through unchanged, counting its bytes; `done` is called once at its end. */
function countBytes(
  body: ReadableStream<Uint8Array>,
  done: (bytes: number, aborted: boolean) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  let finished = false;
  const end = (aborted: boolean) => {
    if (finished) return;
    finished = true;
    done(bytes, aborted);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        end(true);
        controller.error(error);
        return;
      }
      if (chunk.done) {
        end(false);
        controller.close();
        return;
      }
      bytes += chunk.value.byteLength;
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      end(true);
      return reader.cancel(reason);
    },
  });
}

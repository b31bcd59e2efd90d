/**
 * The `http` source: the Sluice server's ingest route (NDJSON, JSON, and Python's
 * `logging.handlers.HTTPHandler`).
 *
 * @module
 */
import { JsonBlockReader } from "../../../src/parse/json_block_reader.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { recordFromPythonDict } from "../../../src/parse/python_log_record.ts";
import { recordFromObject } from "../../../src/parse/record_from_object.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { s } from "../../../src/schema/schema.ts";
import { messageOf } from "../../../src/core/message_of.ts";
import { ndjson } from "./ndjson.ts";
import { Parsed } from "./parsed.ts";
import { type BodyLimits, readBody } from "./read_body.ts";
import { RequestError } from "./request_error.ts";

/**
 * Serves `path` (default `/ingest`) on the Sluice server.
 *
 * - `POST` NDJSON (`application/x-ndjson`, `text/plain`): one JSON object per line.
 * - `POST` `application/json`: an array of objects or one object (an NDJSON body sent as
 *   `application/json` is read as NDJSON).
 * - Without a content type (or curl's default form type with a body that starts with `{`
 *   or `[`), the body is sniffed: `[` is an array, `{` an object or NDJSON.
 * - Python's `logging.handlers.HTTPHandler`: `POST` form-encoded (or `GET` with the query
 *   string) LogRecord attributes; mapped as `recordFromPythonDict` documents (logger name,
 *   level, `msg % args`, `created`, `exc_text`, extra attributes as fields, the call site
 *   under `fields.python`).
 * - `Content-Encoding: gzip` or `deflate` bodies are inflated as a stream; `max_body_bytes`
 *   (default 10 MiB) bounds the bytes sent (413, `body_too_large`) and `max_inflated_bytes`
 *   (default 10 MiB: the inflated body is held whole to be parsed, so this is the memory a
 *   request may cost) the bytes inflated (413, `inflated_too_large`): a 1 MiB body that
 *   inflates to 1 GiB is refused once 10 MiB came out, without inflating the rest.
 *
 * Objects map to records as {@linkcode recordFromObject} documents. The response is sent only
 * after the records are in the pipeline's queues (the emit's back-pressure resolved), so a
 * 2xx means accepted: `200 {"accepted": n}`. A malformed line or element is rejected and
 * counted (`sluice_records_rejected_total{component,reason}`); the valid records of the same
 * body are still accepted, and the response is `400 {"accepted": n, "rejected": m, "errors":
 * [{"line": 3, "reason": "invalid_json", "message": "…"}]}` (array bodies give `index`
 * instead of `line`; at most 100 errors are listed). A body that cannot be read at all
 * (invalid JSON document, too large, bad encoding) is one rejection with no record
 * accepted. While the pipeline shuts down the route answers 503 and accepts nothing.
 *
 * With `acknowledgements: true` a 2xx means more: every sink the records reach has them
 * appended to its disk buffer (`buffer.type: disk`; synced first with `fsync: always`) or,
 * for a sink with a memory buffer, delivered. When that does not happen within `ack_timeout`
 * (a disk buffer full or failing, a memory-buffered sink not delivering) or a sink dropped
 * records meanwhile, the answer is `503` with `Retry-After: 1` and the sender retries:
 * records of that body that did get through may then arrive twice, none is lost.
 *
 * Python's HTTPHandler ignores the response status: a record the server refuses (a 429 from
 * the server's `rate_limit`, a 401 for a missing token) is lost on the Python side. Give
 * such clients a rate limit that fits their volume (HTTPHandler makes one request per record).
 *
 * @example YAML and a request
 * ```ts
 * import { parseConfigText } from "../../../src/config/load.ts";
 * import assert from "node:assert/strict";
 * const yaml = `
 * server: { listen: 127.0.0.1:9600 }
 * sources:
 *   ingest: { type: http, path: /ingest, max_body_bytes: 10MiB }
 * sinks:
 *   file: { type: file, inputs: [ingest], path: logs/ingest.log, format: json }
 * `;
 * const { config } = await parseConfigText(yaml, "http.yaml");
 * assert.ok(config.sources.ingest?.options.max_body_bytes === 10 * 1024 * 1024);
 * // curl -H 'content-type: application/x-ndjson' --data-binary @records.ndjson \
 * //   http://127.0.0.1:9600/ingest
 * // Python: logging.handlers.HTTPHandler("127.0.0.1:9600", "/ingest", method="POST")
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "http",
  description:
    "The server's ingest route: NDJSON, a JSON array or object, or Python's HTTPHandler records.",
  needsServer: true,
  options: s.object({
    path: s.string({ pattern: /^\/\S*$/, patternName: "a path starting with /" }).default("/ingest")
      .describe("The route's path on the Sluice server."),
    max_body_bytes: s.bytes().default(10 * 1024 * 1024).describe(
      "Largest accepted body as sent (compressed or not); larger requests get 413 (body_too_large).",
    ),
    max_inflated_bytes: s.bytes().default(10 * 1024 * 1024).describe(
      "Largest gzip or deflate body after inflating (it is inflated as a stream and held whole to be parsed); larger ones get 413 (inflated_too_large).",
    ),
    acknowledgements: s.boolean().default(false).describe(
      "Answer 2xx only once every sink the records reach has them in its disk buffer or delivered; else 503 with Retry-After.",
    ),
    ack_timeout: s.duration().default(10_000).describe(
      "With acknowledgements: how long a request waits for its records to be safe before 503.",
    ),
  }),
  // Served by the Sluice server, whose listen address `sluice permissions` adds itself.
  permissions: () => ({}),
  create(options, context) {
    const limits = { body: options.max_body_bytes, inflated: options.max_inflated_bytes };
    const errors = context.counter("component_errors_total", "Failed operations of a component.", {
      kind: "source",
    });
    const notSafe = context.counter(
      "records_not_acknowledged_total",
      "Records a source answered 503 for: not safe in every sink in time (the sender retries).",
    );
    const scanned = context.counter("records_scanned_total", JsonBlockReader.SCANNED_HELP);
    const handle = async (request: Request, body?: Uint8Array): Promise<Response> => {
      if (context.signal.aborted) {
        if (body === undefined) await request.body?.cancel().catch(() => {});
        return shuttingDown();
      }
      let parsed: Parsed;
      try {
        parsed = await parseRequest(request, limits, body, context.fieldsAsText === true);
      } catch (error) {
        if (error instanceof RequestError) {
          context.reject(error.reason);
          context.log.warnOnce(
            `${context.id}:${error.reason}`,
            `Source "${context.id}" rejected a request: ${error.message}`,
          );
          return reply(error.status, {
            accepted: 0,
            rejected: 1,
            errors: [{ reason: error.reason, message: error.message }],
          });
        }
        errors.inc();
        context.log.warnOnce(
          `${context.id}:handle`,
          `Source "${context.id}" failed a request`,
          error,
        );
        return reply(500, { accepted: 0, error: "Internal error while reading the request" });
      }
      if (parsed.scanned > 0) scanned.inc(parsed.scanned);
      if (parsed.rejected > 0) {
        for (const [reason, count] of parsed.reasons) context.reject(reason, count);
        const first = parsed.errors[0]!;
        context.log.warnOnce(
          `${context.id}:${first.reason}`,
          `Source "${context.id}" rejected ${
            first.line !== undefined ? `line ${first.line}` : `item ${first.index ?? 0}`
          } of a request: ${first.message}`,
        );
      }
      // Shutdown may have begun while the body was read: once it has, sink queues are closing
      // and a record emitted now could be dropped after a 2xx. Refuse instead; the client retries.
      if (context.signal.aborted) return shuttingDown();
      if (parsed.records.length > 0) {
        if (!options.acknowledgements) await context.emit(parsed.records);
        else if (!await context.emitAcknowledged(parsed.records, options.ack_timeout)) {
          // Not safe (yet): the sender retries; what did get through is at most a duplicate.
          notSafe.inc(parsed.records.length);
          return notAcknowledged(parsed.records.length);
        }
      }
      if (parsed.rejected === 0) return reply(200, { accepted: parsed.records.length });
      return reply(400, {
        accepted: parsed.records.length,
        rejected: parsed.rejected,
        errors: parsed.errors,
      });
    };
    return {
      routes: [{
        methods: ["POST", "GET"],
        path: options.path,
        handle: (request) => handle(request),
        handleBody: handle,
      }],
      start() {},
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  },
});

async function parseRequest(
  request: Request,
  limits: BodyLimits,
  sent: Uint8Array | undefined,
  keepText: boolean,
): Promise<Parsed> {
  const now = Date.now();
  if (request.method === "GET") {
    const query = new URL(request.url).searchParams;
    return accepted([pythonRecord(query, now)]);
  }
  if (request.method !== "POST") {
    if (sent === undefined) await request.body?.cancel().catch(() => {});
    throw new RequestError(
      405,
      "method_not_allowed",
      `Method ${request.method} is not allowed; use POST`,
    );
  }
  const body = await readBody(request, limits, sent);
  // No line is longer than the body, whose size readBody bounded.
  const limit = Math.max(limits.body, limits.inflated);
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const first = firstByte(body);
  if (type === "application/x-www-form-urlencoded" && first !== 0x7b && first !== 0x5b) {
    return accepted([pythonRecord(new URLSearchParams(decode(body)), now)]);
  }
  if (
    type === "application/x-ndjson" || type === "application/ndjson" ||
    type === "application/jsonl" ||
    type === "application/x-jsonlines" || type === "text/plain"
  ) {
    return ndjson(body, limit, now, keepText);
  }
  if (first === -1) return accepted([]);
  // application/json, no type, or anything else: a JSON document, else NDJSON.
  const text = decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (first === 0x7b && hasSecondLine(text)) return ndjson(body, limit, now, keepText);
    throw new RequestError(400, "invalid_json", `Invalid JSON: ${messageOf(error)}`);
  }
  if (Array.isArray(value)) return array(value, now);
  if (typeof value === "object" && value !== null) {
    return accepted([recordFromObject(value as Record<string, unknown>, now)]);
  }
  throw new RequestError(
    400,
    "not_an_object",
    "Expected a JSON object, an array of objects, or NDJSON",
  );
}

function pythonRecord(params: URLSearchParams, now: number): LogRecord {
  const dict: Record<string, string> = {};
  for (const [key, value] of params) dict[key] = value;
  if (!("msg" in dict) && !("message" in dict)) {
    throw new RequestError(
      400,
      "not_a_log_record",
      "Expected a Python LogRecord (form fields name, levelno, msg, args, created …)",
    );
  }
  return recordFromPythonDict(dict, now);
}

function accepted(records: LogRecord[]): Parsed {
  return new Parsed(records);
}

function array(items: unknown[], now: number): Parsed {
  const parsed = accepted([]);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item === "object" && item !== null && !Array.isArray(item)) {
      parsed.records.push(recordFromObject(item as Record<string, unknown>, now));
    } else {
      parsed.reject({ index: i, reason: "not_an_object", message: "Expected a JSON object" });
    }
  }
  return parsed;
}

const FATAL = new TextDecoder("utf-8", { fatal: true });

function decode(body: Uint8Array): string {
  try {
    return FATAL.decode(body);
  } catch {
    throw new RequestError(400, "invalid_utf8", "The body is not valid UTF-8");
  }
}

/** The first byte that is not white space, or -1. */
function firstByte(body: Uint8Array): number {
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (
      b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf
    ) return b;
  }
  return -1;
}

function hasSecondLine(text: string): boolean {
  const nl = text.indexOf("\n");
  return nl !== -1 && text.slice(nl + 1).trim() !== "";
}

function notAcknowledged(count: number): Response {
  return new Response(
    JSON.stringify({
      accepted: 0,
      error:
        `The ${count} records are not yet safe in every sink (disk buffer full or failing, or a sink not delivering); retry later`,
    }),
    { status: 503, headers: { "content-type": "application/json", "retry-after": "1" } },
  );
}

function shuttingDown(): Response {
  return reply(503, { accepted: 0, error: "Sluice is shutting down; retry later" });
}

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/**
 * The `http` sink: batches of records POSTed to an HTTP endpoint, in the payload a real
 * system takes (NDJSON, a JSON array, OTLP/HTTP JSON, Loki push, Elasticsearch `_bulk`).
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { elasticsearchPreset } from "./presets/elasticsearch.ts";
import { jsonArrayPreset } from "./presets/json_array.ts";
import { lokiPreset } from "./presets/loki.ts";
import { ndjsonPreset } from "./presets/ndjson.ts";
import { otlpPreset } from "./presets/otlp.ts";
import type { HttpPreset } from "./presets/preset.ts";
import { utf8Length } from "../../../src/core/utf8_length.ts";
import { DeliveryError } from "../../../src/plugin/delivery_error.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import type { Counter, Sink } from "../../../src/plugin/types.ts";
import { s } from "../../../src/schema/schema.ts";
import { formatErrorReporter } from "../../../src/plugin/format_error_reporter.ts";
import { jsonOptions } from "../../../src/format/json_options.ts";
import type { FormatterSpec } from "../../../src/schema/schema.ts";
import { messageOf } from "../../../src/core/message_of.ts";
import { readPrefix } from "./read_prefix.ts";

const PRESETS = ["ndjson", "json_array", "otlp", "loki", "elasticsearch"] as const;

/**
 * Sends records in requests of at most `batch.max_records` records and `batch.max_bytes`
 * bytes (a batch from the queue is split as needed), optionally gzip-compressed, with the
 * configured headers (`${VAR}` is expanded by the config loader, so tokens stay out of the
 * file). Network errors, timeouts, 408, 429 and 5xx are retried inside the write with
 * exponential back-off and jitter from `retry.initial` to `retry.max`, waiting as long as a
 * `Retry-After` header asks; after `retry.max_elapsed` the batch is handed back to the
 * pipeline, which keeps it queued and, after `fallback_after`, gives it to the `fallback`
 * sink. Any other 4xx is not retried: the batch goes straight to the fallback sink, or is
 * counted as dropped with the reason `http_<status>`. A retried batch resends only what was
 * not delivered yet. Every request is counted in `sluice_http_client_requests_total{status}`.
 *
 * Presets: `ndjson` (default) and `json_array` carry the formatter's lines (default `json`);
 * `otlp` writes OTLP/HTTP JSON logs (`otlp.resource` gives the resource attributes); `loki`
 * writes Loki push streams labelled by `loki.labels` and `loki.static_labels`, each line
 * from the formatter; `elasticsearch` writes `_bulk` actions into `elasticsearch.index`
 * (ECS documents unless a formatter is given) and handles per-item failures.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   collector:
 *     type: http
 *     url: http://127.0.0.1:4318/v1/logs
 *     preset: otlp
 *     otlp: { resource: { service.name: payments } }
 *     batch: { max_records: 1000, max_bytes: 1MiB, max_wait: 1s }
 *     compression: gzip
 *     headers: { Authorization: "Bearer \${COLLECTOR_TOKEN}" }
 *     retry: { initial: 200ms, max: 30s, max_elapsed: 10m }
 *     fallback: local_file
 *   loki:
 *     type: http
 *     url: http://loki:3100/loki/api/v1/push
 *     preset: loki
 *     loki: { labels: [level, logger, service], static_labels: { job: sluice } }
 *   local_file: { type: file, path: logs/collector_fallback.log }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml", { env: { COLLECTOR_TOKEN: "t0ken" } });
 * assert.equal(config.sinks.collector?.type, "http");
 * assert.equal(config.sinks.loki?.options.preset, "loki");
 * ```
 */
export default definePlugin({
  kind: "sink",
  type: "http",
  description:
    "Batches of records over HTTP: NDJSON, JSON array, OTLP/HTTP JSON, Loki push or Elasticsearch _bulk; gzip, retries, Retry-After.",
  options: s.object({
    url: s.string({ pattern: /^https?:\/\/\S+$/i, patternName: "an http:// or https:// URL" })
      .describe("The endpoint, such as http://127.0.0.1:4318/v1/logs."),
    method: s.enum(["POST", "PUT"] as const).default("POST").describe("The request method."),
    preset: s.enum(PRESETS).default("ndjson").describe("The payload."),
    format: s.formatter().optional().describe(
      "Formatter of each line (ndjson, json_array, loki: json by default; elasticsearch: ECS documents by default; unused by otlp).",
    ),
    batch: s.object({
      max_records: s.integer({ min: 1 }).default(1000).describe("Most records per request."),
      max_bytes: s.bytes().default(1024 * 1024).describe("Most bytes per request (before gzip)."),
      max_wait: s.duration().default(1000).describe(
        "How long the first queued record waits for more before a request is sent.",
      ),
    }).default({ max_records: 1000, max_bytes: 1024 * 1024, max_wait: 1000 }),
    compression: s.enum(["none", "gzip"] as const).default("none").describe(
      "Request body encoding.",
    ),
    headers: s.map(s.string()).default({}).describe("Extra request headers."),
    timeout: s.duration().default(30_000).describe("Give up one request after this long."),
    retry: s.object({
      initial: s.duration().default(200).describe("First delay after a failure."),
      max: s.duration().default(30_000).describe("Longest delay (Retry-After may ask for more)."),
      max_elapsed: s.duration().default(600_000).describe(
        "Stop retrying a request after this long and hand the batch back to the pipeline.",
      ),
    }).default({ initial: 200, max: 30_000, max_elapsed: 600_000 }),
    otlp: s.object({
      resource: s.map(s.any()).default({ "service.name": "unknown_service" }).describe(
        "Resource attributes.",
      ),
    }).default({ resource: { "service.name": "unknown_service" } }),
    loki: s.object({
      labels: s.array(s.string({ minLength: 1 })).default(["level", "logger"]).describe(
        "Labels taken from each record: level, logger or a field name.",
      ),
      static_labels: s.map(s.string()).default({}).describe("Labels every stream carries."),
    }).default({ labels: ["level", "logger"], static_labels: {} }),
    elasticsearch: s.object({
      index: s.string({ minLength: 1 }).default("logs-sluice-default").describe(
        "Index or data stream; %Y, %m and %d become the record's UTC date.",
      ),
      action: s.enum(["create", "index"] as const).default("create").describe(
        "Bulk action (data streams need create).",
      ),
    }).default({ index: "logs-sluice-default", action: "create" }),
  }),
  permissions(options) {
    const url = new URL(options.url);
    return { net: [url.port ? `${url.hostname}:${url.port}` : url.hostname] };
  },
  create(options, context) {
    const lineFormat = () => context.createFormatter(options.format ?? defaultFormat());
    let preset: HttpPreset;
    switch (options.preset) {
      case "json_array":
        preset = jsonArrayPreset(lineFormat());
        break;
      case "otlp":
        preset = otlpPreset({ resource: options.otlp.resource });
        break;
      case "loki":
        preset = lokiPreset(
          { labels: options.loki.labels, staticLabels: options.loki.static_labels },
          lineFormat(),
        );
        break;
      case "elasticsearch":
        preset = elasticsearchPreset(
          options.elasticsearch,
          options.format ? context.createFormatter(options.format) : undefined,
        );
        break;
      default:
        preset = ndjsonPreset(lineFormat());
    }
    const url = options.url;
    const target = redact(url);
    const headers: Record<string, string> = { "content-type": preset.contentType };
    if (options.compression === "gzip") headers["content-encoding"] = "gzip";
    for (const [name, value] of Object.entries(options.headers)) {
      headers[name.toLowerCase()] = value;
    }
    const maxRecords = options.batch.max_records;
    const maxBytes = Math.max(1, options.batch.max_bytes - preset.overhead);
    const retry = options.retry;
    const closing = new AbortController();
    const onFormatError = formatErrorReporter(context);
    const retries = context.counter("http_retries_total", "HTTP requests a sink will send again.");
    const byStatus = new Map<string, Counter>();
    const countRequest = (status: string) => {
      let series = byStatus.get(status);
      if (!series) {
        series = context.counter(
          "http_client_requests_total",
          "HTTP requests a sink sent, by status.",
          { status },
        );
        byStatus.set(status, series);
      }
      series.inc();
    };

    /** Sends one request's records until delivered, refused, or out of retry time. */
    const sendChunk = async (
      items: string[],
      records: LogRecord[],
    ): Promise<{ rejected: { record: LogRecord; reason: string; detail: string }[] }> => {
      const started = Date.now();
      let delay = retry.initial;
      const rejected: { record: LogRecord; reason: string; detail: string }[] = [];
      for (;;) {
        let why: string;
        let wait: number | undefined;
        const text = preset.body(items, records);
        const body = options.compression === "gzip" ? await gzip(text) : text;
        try {
          const response = await fetch(url, {
            method: options.method,
            headers,
            body,
            signal: AbortSignal.any([AbortSignal.timeout(options.timeout), closing.signal]),
          });
          countRequest(String(response.status));
          if (response.ok) {
            const outcome = preset.outcome
              ? await preset.outcome(response, records.length)
              : (await response.body?.cancel(), undefined);
            if (!outcome || (outcome.retry.length === 0 && outcome.reject.length === 0)) {
              return { rejected };
            }
            for (const r of outcome.reject) {
              rejected.push({ record: records[r.index]!, reason: r.reason, detail: r.detail });
            }
            if (outcome.retry.length === 0) return { rejected };
            items = outcome.retry.map((i) => items[i]!);
            records = outcome.retry.map((i) => records[i]!);
            why = `${records.length} items refused as busy`;
          } else {
            const detail = await excerpt(response);
            const status = response.status;
            if (status === 408 || status === 429 || status >= 500) {
              why = `HTTP ${status}${detail}`;
              wait = retryAfter(response.headers.get("retry-after"));
            } else {
              for (const record of records) {
                rejected.push({
                  record,
                  reason: `http_${status}`,
                  detail: `HTTP ${status}${detail}`,
                });
              }
              return { rejected };
            }
          }
        } catch (error) {
          if (closing.signal.aborted) throw new Error(`Sink "${context.id}" is closed`);
          countRequest("error");
          why = messageOf(error);
        }
        const jittered = delay / 2 + Math.random() * delay / 2;
        const pause = wait ?? jittered;
        delay = Math.min(retry.max, delay * 2);
        const elapsed = Date.now() - started;
        if (context.signal.aborted || elapsed + pause > retry.max_elapsed) {
          throw Object.assign(
            new Error(
              `Cannot deliver ${records.length} records to ${target} for sink "${context.id}": ${why}`,
            ),
            { records },
          );
        }
        retries.inc();
        context.log.warnOnce(
          `http:${context.id}:retry`,
          `Sink "${context.id}" retries requests to ${target}: ${why}`,
        );
        await sleep(pause, closing.signal);
      }
    };

    const sink: Sink & { maxWait: number } = {
      maxWait: options.batch.max_wait,
      async write(batch: readonly LogRecord[]) {
        const items: string[] = [];
        const records: LogRecord[] = [];
        const sizes: number[] = [];
        for (const record of batch) {
          let item: string;
          try {
            item = preset.item(record);
          } catch (error) {
            onFormatError(record, error);
            continue;
          }
          items.push(item);
          records.push(record);
          sizes.push(utf8Length(item) + 1);
        }
        const rejected: { record: LogRecord; reason: string; detail: string }[] = [];
        let start = 0;
        while (start < items.length) {
          let end = start + 1;
          let bytes = sizes[start]!;
          while (
            end < items.length && end - start < maxRecords && bytes + sizes[end]! <= maxBytes
          ) {
            bytes += sizes[end]!;
            end++;
          }
          const chunkRecords = records.slice(start, end);
          try {
            const result = await sendChunk(items.slice(start, end), chunkRecords);
            rejected.push(...result.rejected);
          } catch (error) {
            // The error names what was not delivered: the pipeline counts the rest as
            // delivered and retries (or hands to the fallback) only these.
            const failed = (error as { records?: LogRecord[] }).records ?? chunkRecords;
            throw Object.assign(error as Error, {
              records: [...failed, ...records.slice(end), ...rejected.map((r) => r.record)],
            });
          }
          start = end;
        }
        if (rejected.length > 0) {
          const first = rejected[0]!;
          context.log.warnOnce(
            `http:${context.id}:rejected:${first.reason}`,
            `${target} refused records of sink "${context.id}": ${first.detail}`,
          );
          throw Object.assign(
            new DeliveryError(
              `${target} refused ${rejected.length} of ${records.length} records of sink "${context.id}": ${first.detail}`,
              first.reason,
              false,
            ),
            { records: rejected.map((r) => r.record) },
          );
        }
      },
      [Symbol.asyncDispose]() {
        closing.abort();
        return Promise.resolve();
      },
    };
    return sink;
  },
});

/**
 * `format: json` exactly as validation resolves it (options parsed, defaults filled): the
 * line presets' default when no `format:` is given (elasticsearch's default is ECS instead).
 */
function defaultFormat(): FormatterSpec {
  const issues: never[] = [];
  const options = jsonOptions.parse({}, [], { issues });
  return { type: "json", options: options as Record<string, unknown> };
}

/** A `Retry-After` value (seconds or an HTTP date) in milliseconds, or `undefined`. */
function retryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The most of an error body read to quote 200 characters of it; the rest is cancelled. */
const EXCERPT_BYTES = 4096;

async function excerpt(response: Response): Promise<string> {
  try {
    const text = (await readPrefix(response, EXCERPT_BYTES)).text.trim();
    return text ? `: ${text.length > 200 ? text.slice(0, 197) + "..." : text}` : "";
  } catch {
    return "";
  }
}

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("closed"));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("closed"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The URL without credentials or query, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "the endpoint";
  }
}

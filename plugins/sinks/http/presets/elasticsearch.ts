/**
 * The `elasticsearch` preset of the `http` sink: the `_bulk` API.
 *
 * @module
 */

import { wellFormedJson } from "../../../../src/core/well_formed_json.ts";
import type { LogRecord } from "../../../../src/core/record.ts";
import { ecsEntries, ecsLevel } from "../../../../src/format/ecs_mapping.ts";
import type { Formatter } from "../../../../src/plugin/types.ts";
import type { HttpPreset, ItemOutcome } from "./preset.ts";
import { readPrefix } from "../read_prefix.ts";

const decoder = new TextDecoder();

/** Options of {@linkcode elasticsearchPreset}. */
export interface ElasticsearchOptions {
  /** The index or data stream; `%Y`, `%m` and `%d` become the record's UTC date. */
  index: string;
  /** `create` (required by data streams) or `index`. */
  action: "create" | "index";
}

const RESERVED = new Set([
  "@timestamp",
  "log.level",
  "log.logger",
  "message",
  "error",
  "trace.id",
  "span.id",
  "parent.id",
]);

/**
 * The default document: ECS names (`@timestamp`, `log.level`, `log.logger`, `message`, the
 * record's span as `trace.id`, `span.id` and `parent.id`, the fields at the top level — a field
 * named like one of those as `fields.<name>` — and an error as `error.type`, `error.message`
 * and `error.stack_trace`, the call site as `log.origin.*`: the mapping of `naming: ecs`,
 * src/format/ecs_mapping.ts).
 *
 * @example A record as an ECS document
 * ```ts
 * import { ecsDocument } from "./elasticsearch.ts";
 * import { createRecord } from "../../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const doc = JSON.parse(ecsDocument(createRecord({ time: 0, message: "hi", fields: { user: "ada" } })));
 * assert.ok(doc["@timestamp"] === "1970-01-01T00:00:00.000Z" && doc["log.level"] === "info" && doc.user === "ada");
 * ```
 */
export function ecsDocument(record: LogRecord): string {
  const doc: Record<string, unknown> = {
    "@timestamp": new Date(record.time).toISOString(),
    "log.level": ecsLevel(record.level),
    "log.logger": record.logger,
    message: record.message,
  };
  if (record.trace_id !== undefined) {
    doc["trace.id"] = record.trace_id;
    doc["span.id"] = record.span_id;
    if (record.parent_span_id !== undefined) doc["parent.id"] = record.parent_span_id;
  }
  for (const key in record.fields) {
    doc[RESERVED.has(key) ? "fields." + key : key] = record.fields[key];
  }
  for (const [key, value] of ecsEntries(record)) doc[key] = value;
  return wellFormedJson(
    JSON.stringify(doc, (_key, value) => typeof value === "bigint" ? value.toString() : value),
  );
}

/**
 * Elasticsearch `_bulk` (`POST /_bulk`, `application/x-ndjson`): per record an action line
 * (`{"create":{"_index":…}}`) and a source line — the formatter's output when one is
 * configured, else {@linkcode ecsDocument}. A 2xx response with `"errors": true` is read item
 * by item: items refused with 429 or 5xx are sent again, other refusals (a mapping error, a
 * conflict) are rejected with the error type as the reason.
 *
 * @example Two records
 * ```ts
 * import { elasticsearchPreset } from "./elasticsearch.ts";
 * import { createRecord } from "../../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const preset = elasticsearchPreset({ index: "logs-%Y.%m", action: "create" });
 * const records = [createRecord({ time: 0, message: "a" })];
 * const body = preset.body(records.map(preset.item), records);
 * assert.ok(body.startsWith('{"create":{"_index":"logs-1970.01"}}\n{"@timestamp"'));
 * ```
 */
export function elasticsearchPreset(options: ElasticsearchOptions, format?: Formatter): HttpPreset {
  const dated = /%[Ymd]/.test(options.index);
  const fixedAction = dated ? "" : actionLine(options.action, options.index);
  const source = format
    ? (record: LogRecord) => {
      const out = format(record);
      return typeof out === "string" ? out : decoder.decode(out);
    }
    : ecsDocument;
  return {
    contentType: "application/x-ndjson",
    overhead: 0,
    item(record) {
      const action = dated
        ? actionLine(options.action, indexFor(options.index, record.time))
        : fixedAction;
      return action + source(record) + "\n";
    },
    body: (items) => items.join(""),
    async outcome(response, count): Promise<ItemOutcome> {
      const result: ItemOutcome = { retry: [], reject: [] };
      let body: unknown;
      try {
        // A bulk answer is a few hundred bytes per item; a peer sending more is cut off.
        const answer = await readPrefix(response, 64 * 1024 + count * 4096);
        body = JSON.parse(answer.text);
      } catch {
        return result; // Not JSON: the 2xx status is all we know.
      }
      const parsed = body as { errors?: boolean; items?: Record<string, ItemResult>[] };
      if (!parsed.errors || !Array.isArray(parsed.items)) return result;
      for (let i = 0; i < parsed.items.length && i < count; i++) {
        const item = Object.values(parsed.items[i] ?? {})[0];
        const status = item?.status ?? 200;
        if (status < 300) continue;
        if (status === 429 || status >= 500) result.retry.push(i);
        else {
          result.reject.push({
            index: i,
            reason: `elasticsearch_${item?.error?.type ?? status}`,
            detail: item?.error?.reason ?? `status ${status}`,
          });
        }
      }
      return result;
    },
  };
}

interface ItemResult {
  status?: number;
  error?: { type?: string; reason?: string };
}

function actionLine(action: string, index: string): string {
  return '{"' + action + '":{"_index":' + JSON.stringify(index) + "}}\n";
}

function indexFor(pattern: string, time: number): string {
  const d = new Date(time);
  const pad = (n: number) => (n < 10 ? "0" + n : String(n));
  return pattern.replace(
    /%([Ymd])/g,
    (_m, c: string) =>
      c === "Y"
        ? String(d.getUTCFullYear())
        : c === "m"
        ? pad(d.getUTCMonth() + 1)
        : pad(d.getUTCDate()),
  );
}

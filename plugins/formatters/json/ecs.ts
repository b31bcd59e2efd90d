/**
 * The `naming: ecs` document of the `json` formatter: Elastic Common Schema 8.
 *
 * @module
 */

import { safeStringify } from "../../../src/core/safe_stringify.ts";
import { wellFormedJson } from "../../../src/core/well_formed_json.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { isoTimeCache } from "../../../src/core/time_cache.ts";
import { ECS_VERSION, ecsEntries, ecsLevel } from "../../../src/format/ecs_mapping.ts";

/** Options of {@linkcode ecsFormatter}. */
export interface EcsOptions {
  /** `service.name`; without it, a record's string field `service` gives it. */
  service?: string | undefined;
  /** The object the record's fields are written under. */
  namespace: string;
}

/**
 * Writes one ECS 8 document per record, in the dotted form the ecs-logging libraries write:
 * `@timestamp`, `log.level` (lower case), `message`, `ecs.version`, `log.logger`,
 * `service.name` (the option, else the record's `service` field), `trace.id`, `span.id`,
 * `log.origin.file.name`, `log.origin.file.line`, `log.origin.function` (from `caller`),
 * `error.type`, `error.message`, `error.stack_trace`; the record's fields go under one object
 * (`namespace`, default `fields`), so a field called `host` or `user` can never collide with
 * ECS's own `host` and `user` objects and break an index mapping.
 *
 * @example A record in ECS
 * ```ts
 * import assert from "node:assert/strict";
 * import { ecsFormatter } from "./ecs.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * const format = ecsFormatter({ service: "payment-service", namespace: "fields" });
 * const doc = JSON.parse(format(createRecord({ time: 0, level: 30, message: "low disk", fields: { host: "a" } })));
 * assert.deepEqual(doc, {
 *   "@timestamp": "1970-01-01T00:00:00.000Z", "log.level": "warn", message: "low disk",
 *   "ecs.version": "8.11.0", "log.logger": "", "service.name": "payment-service", fields: { host: "a" },
 * });
 * ```
 */
export function ecsFormatter(options: EcsOptions): (record: LogRecord) => string {
  const iso = isoTimeCache();
  const service = options.service === undefined ? undefined : JSON.stringify(options.service);
  const namespace = ',"' + jsonKey(options.namespace) + '":';
  return (record) => {
    let out = '{"@timestamp":"' + iso(record.time) + '","log.level":"' + ecsLevel(record.level) +
      '","message":' + JSON.stringify(record.message) + ',"ecs.version":"' + ECS_VERSION +
      '","log.logger":' + JSON.stringify(record.logger);
    const fields = record.fields;
    const named = service ??
      (typeof fields.service === "string" ? JSON.stringify(fields.service) : undefined);
    if (named !== undefined) out += ',"service.name":' + named;
    if (record.trace_id !== undefined) {
      out += ',"trace.id":"' + record.trace_id + '","span.id":"' + record.span_id + '"';
    }
    for (const [key, value] of ecsEntries(record)) {
      out += "," + JSON.stringify(key) + ":" + JSON.stringify(value);
    }
    for (const _ in fields) {
      out += namespace + safeStringify(fields);
      break;
    }
    return wellFormedJson(out + "}");
  };
}

function jsonKey(name: string): string {
  return JSON.stringify(name).slice(1, -1);
}

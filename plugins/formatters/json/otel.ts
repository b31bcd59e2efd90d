/**
 * The `naming: otel` document of the `json` formatter: the OpenTelemetry log data model.
 *
 * @module
 */

import { levelName } from "../../../src/core/levels.ts";
import { safeStringify } from "../../../src/core/safe_stringify.ts";
import { wellFormedJson } from "../../../src/core/well_formed_json.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { otelAttributes, otelNanos, otelSeverity } from "../../../src/format/otel_mapping.ts";

/** Options of {@linkcode otelFormatter}. */
export interface OtelOptions {
  /** `Resource["service.name"]`, when given. */
  service?: string | undefined;
}

/**
 * Writes one record per line with the field names of the OpenTelemetry log data model:
 * `Timestamp` (nanoseconds since the epoch, as a decimal string: it does not fit a JSON
 * number exactly), `SeverityText` (the level's name), `SeverityNumber` (TRACE 1, DEBUG 5,
 * INFO 9, WARN 13, ERROR 17, CRITICAL 21), `Body` (the message), `Attributes` (the fields,
 * plus `exception.type`, `exception.message`, `exception.stacktrace` and `code.file.path`,
 * `code.line.number`, `code.function.name` under the semantic conventions), `TraceId`,
 * `SpanId`, `TraceFlags` when the record has a span, `InstrumentationScope.Name` (the logger)
 * and `Resource` (`service.name`). This is the data model's naming for files and queues; the
 * `http` sink's `otlp` preset speaks the OTLP wire protocol itself.
 *
 * @example A record in the OpenTelemetry data model
 * ```ts
 * import assert from "node:assert/strict";
 * import { otelFormatter } from "./otel.ts";
 * import { createRecord } from "../../../src/core/record.ts";
 * const format = otelFormatter({ service: "checkout" });
 * const doc = JSON.parse(format(createRecord({ time: 1, level: 40, logger: "db", message: "down", fields: { retries: 3 } })));
 * assert.deepEqual(doc, {
 *   Timestamp: "1000000", SeverityText: "ERROR", SeverityNumber: 17, Body: "down",
 *   Attributes: { retries: 3 }, InstrumentationScope: { Name: "db" }, Resource: { "service.name": "checkout" },
 * });
 * ```
 */
export function otelFormatter(options: OtelOptions): (record: LogRecord) => string {
  const resource = options.service === undefined
    ? ""
    : ',"Resource":{"service.name":' + JSON.stringify(options.service) + "}";
  return (record) => {
    let out = '{"Timestamp":"' + otelNanos(record.time) + '","SeverityText":"' +
      levelName(record.level) + '","SeverityNumber":' + otelSeverity(record.level) + ',"Body":' +
      JSON.stringify(record.message);
    let attributes = "";
    const fields = record.fields;
    for (const _ in fields) {
      const body = safeStringify(fields);
      attributes = body.slice(1, -1);
      break;
    }
    for (const [key, value] of otelAttributes(record)) {
      attributes += (attributes ? "," : "") + JSON.stringify(key) + ":" + JSON.stringify(value);
    }
    if (attributes) out += ',"Attributes":{' + attributes + "}";
    if (record.trace_id !== undefined) {
      out += ',"TraceId":"' + record.trace_id + '","SpanId":"' + record.span_id +
        '","TraceFlags":' + (record.trace_flags ?? 0);
    }
    return wellFormedJson(
      out + ',"InstrumentationScope":{"Name":' + JSON.stringify(record.logger) + "}" + resource +
        "}",
    );
  };
}

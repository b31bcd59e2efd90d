/**
 * Reading one named value of a record, as processors name them in their options.
 *
 * @module
 */

import { getOwn } from "./get_own.ts";
import type { LogRecord } from "./record.ts";

/** Reads one value of a record. */
export type RecordGetter = (record: LogRecord) => unknown;

/**
 * A getter for `key`: `message` and `logger` name the record's own message and logger,
 * `trace_id` and `span_id` the record's span (or a field of that name when the record has
 * none); any other key names a field (`fields.<key>` reaches a field called `message`), and a
 * dotted key such as `python.module` reaches into an object field when no field has the
 * dotted name itself. Built once per option, so the per-record cost is one property read.
 *
 * @example Read a record's values by name
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordGetter } from "./record_getter.ts";
 * import { createRecord } from "./record.ts";
 * const record = createRecord({ message: "hi", fields: { http: { status: 500 }, user: "ada" } });
 * assert.equal(recordGetter("message")(record), "hi");
 * assert.equal(recordGetter("user")(record), "ada");
 * assert.equal(recordGetter("http.status")(record), 500);
 * ```
 */
export function recordGetter(key: string): RecordGetter {
  if (key === "message") return (record) => record.message;
  if (key === "logger") return (record) => record.logger;
  if (key === "trace_id") return (record) => record.trace_id ?? getOwn(record.fields, key);
  if (key === "span_id") return (record) => record.span_id ?? getOwn(record.fields, key);
  const name = key.startsWith("fields.") ? key.slice("fields.".length) : key;
  const path = name.split(".");
  // Own properties only: a field called constructor or toString is not the prototype's.
  if (path.length === 1) return (record) => getOwn(record.fields, name);
  return (record) => {
    const fields = record.fields;
    if (Object.hasOwn(fields, name)) return fields[name];
    let value: unknown = fields;
    for (let i = 0; i < path.length; i++) {
      if (typeof value !== "object" || value === null) return undefined;
      value = getOwn(value as Record<string, unknown>, path[i]!);
    }
    return value;
  };
}

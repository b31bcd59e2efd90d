/**
 * What a queued record is charged against a sink's `buffer.max_bytes`.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { JsonFieldsRecord } from "../core/json_fields_record.ts";

/** The record object, its fields object and bookkeeping, whatever the text. */
const RECORD_OVERHEAD = 64;
/** A field's slot and a non-string value (numbers, booleans, nested objects, shallowly). */
const FIELD_OVERHEAD = 16;

/**
 * Estimates the bytes a queued record holds: a fixed overhead, the message, each field's key
 * and string value (other values at a fixed size; nested objects are not walked), and an
 * error's message and stack. It is a cheap bound for the queue, not an exact measure: a
 * record carrying a 1 MiB string field counts as about 1 MiB, one with a large nested
 * object only as its top-level slots.
 *
 * @example A record with a large field weighs about as much as the field
 * ```ts
 * import { estimateRecordBytes } from "./record_bytes.ts";
 * import { createRecord } from "../core/record.ts";
 * import assert from "node:assert/strict";
 * const small = estimateRecordBytes(createRecord({ message: "hi" }));
 * const large = estimateRecordBytes(createRecord({ message: "hi", fields: { body: "x".repeat(100_000) } }));
 * assert.ok(small < 100 && large > 100_000);
 * ```
 */
export function estimateRecordBytes(record: LogRecord): number {
  let size = RECORD_OVERHEAD + record.message.length;
  // Fields still held as their JSON text weigh that text (reading them would parse them).
  const json = JsonFieldsRecord.fieldsJson(record);
  if (json !== undefined) return size + json.length;
  const fields = record.fields;
  for (const key in fields) {
    const value = fields[key];
    size += key.length + (typeof value === "string" ? value.length : FIELD_OVERHEAD);
  }
  // A record from a plugin may break the types: the estimate must not throw.
  const error = record.error as { message?: unknown; stack?: unknown } | undefined;
  if (error !== undefined && error !== null) {
    if (typeof error.message === "string") size += error.message.length;
    if (typeof error.stack === "string") size += error.stack.length;
  }
  return size;
}

/**
 * The `ndjson` preset of the `http` sink: one formatted line per record.
 *
 * @module
 */

import type { Formatter } from "../../../../src/plugin/types.ts";
import type { HttpPreset } from "./preset.ts";

const decoder = new TextDecoder();

/**
 * Newline-delimited JSON (or whatever the formatter writes): each record's line followed by
 * `\n`, sent as `application/x-ndjson`.
 *
 * @example Two records
 * ```ts
 * import { ndjsonPreset } from "./ndjson.ts";
 * import { createRecord } from "../../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const preset = ndjsonPreset((r) => JSON.stringify({ msg: r.message }));
 * const records = [createRecord({ message: "a" }), createRecord({ message: "b" })];
 * assert.ok(preset.body(records.map(preset.item), records) === '{"msg":"a"}\n{"msg":"b"}\n');
 * ```
 */
export function ndjsonPreset(format: Formatter): HttpPreset {
  return {
    contentType: "application/x-ndjson",
    overhead: 0,
    item: (record) => {
      const line = format(record);
      return typeof line === "string" ? line : decoder.decode(line);
    },
    body: (items) => items.join("\n") + "\n",
  };
}

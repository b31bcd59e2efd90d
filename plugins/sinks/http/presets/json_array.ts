/**
 * The `json_array` preset of the `http` sink: one JSON array of records per request.
 *
 * @module
 */

import type { Formatter } from "../../../../src/plugin/types.ts";
import { wellFormedJson } from "../../../../src/core/well_formed_json.ts";
import type { HttpPreset } from "./preset.ts";

const decoder = new TextDecoder();

/**
 * A JSON array whose elements are the formatter's output (which must be JSON: the default
 * `json` formatter), sent as `application/json`. A line that is not valid JSON is refused as
 * a format error rather than breaking the whole request.
 *
 * @example Two records
 * ```ts
 * import { jsonArrayPreset } from "./json_array.ts";
 * import { createRecord } from "../../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const preset = jsonArrayPreset((r) => JSON.stringify({ msg: r.message }));
 * const records = [createRecord({ message: "a" }), createRecord({ message: "b" })];
 * assert.ok(preset.body(records.map(preset.item), records) === '[{"msg":"a"},{"msg":"b"}]');
 * ```
 */
export function jsonArrayPreset(format: Formatter): HttpPreset {
  return {
    contentType: "application/json",
    overhead: 2,
    item: (record) => {
      const out = format(record);
      const line = typeof out === "string" ? out : decoder.decode(out);
      // An object from the json formatter is JSON by construction; anything else is checked,
      // and JSON.parse throws for a formatter that does not write JSON.
      if (!(line.charCodeAt(0) === 123 && line.charCodeAt(line.length - 1) === 125)) {
        JSON.parse(line);
      }
      return wellFormedJson(line);
    },
    body: (items) => "[" + items.join(",") + "]",
  };
}

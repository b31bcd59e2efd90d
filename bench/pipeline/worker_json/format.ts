/**
 * The formatter of the worker-ingest prototype: the precomputed line of an
 * {@linkcode IngestedRecord}, the json formatter's output for any other record.
 *
 * @module
 */

import { definePlugin, s } from "../../../mod.ts";
import { createBuiltin } from "../../builtin.ts";
import { IngestedRecord } from "./ingested_record.ts";

/** The `precomputed_json` formatter. */
export default definePlugin({
  kind: "formatter",
  type: "precomputed_json",
  description: "Prototype: a Worker's precomputed JSON line, else the json formatter.",
  options: s.object({}),
  create() {
    const json = createBuiltin("formatter", "json");
    return (record) =>
      record instanceof IngestedRecord ? IngestedRecord.lineOf(record) : json(record);
  },
});

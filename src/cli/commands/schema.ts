/**
 * `sluice schema`: the config's JSON Schema, for editors.
 *
 * @module
 */

import { buildJsonSchema } from "../../config/json_schema.ts";
import { Registry } from "../../plugin/registry.ts";
import { builtinLoaders } from "../../../plugins/mod.ts";
import type { Command } from "../command.ts";
import { parseFlags } from "../parse_flags.ts";

/**
 * Prints the JSON Schema of the whole config (every built-in plugin's options, the server,
 * loggers and framework keys), built from the plugins' option schemas:
 *
 * ```sh
 * deno run -A src/cli/main.ts schema > sluice.schema.json
 * # then, first line of sluice.yaml: # yaml-language-server: $schema=sluice.schema.json
 * ```
 *
 * @example Usage
 * ```ts
 * import schema from "./schema.ts";
 * import assert from "node:assert/strict";
 * assert.ok(schema.usage === "schema");
 * ```
 */
const schema: Command = {
  name: "schema",
  summary: "Print the JSON Schema of the config, for editor completion",
  usage: "schema",
  async run(args) {
    parseFlags(args, {});
    const registry = await new Registry([], builtinLoaders).loadAll();
    console.log(JSON.stringify(buildJsonSchema(registry), null, 2));
    return 0;
  },
};

export default schema;

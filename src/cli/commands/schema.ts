/**
 * `sluice schema`: the config's JSON Schema, for editors.
 *
 * @module
 */

import { buildJsonSchema } from "../../config/json_schema.ts";
import { loadConfig } from "../../config/load.ts";
import { PluginSandbox } from "../../config/plugin_sandbox.ts";
import { Registry } from "../../plugin/registry.ts";
import type { PluginDefinition } from "../../plugin/types.ts";
import { builtinLoaders } from "../../../plugins/mod.ts";
import type { Command } from "../command.ts";
import { parseFlags } from "../parse_flags.ts";
import { processEnv } from "../process_env.ts";

/**
 * Prints the JSON Schema of the whole config (every built-in plugin's options, the server,
 * loggers and framework keys), built from the plugins' option schemas:
 *
 * ```sh
 * deno run -A src/cli/main.ts schema > sluice.schema.json
 * # then, first line of sluice.yaml: # yaml-language-server: $schema=sluice.schema.json
 * ```
 *
 * With `--config FILE` it also holds the options of the `module:` plugins that (valid) config
 * names, loaded in the sandbox `check` uses: a `deno run` process without permissions (a
 * remote module only with `--allow-remote-modules`).
 *
 * @example Usage
 * ```ts
 * import schema from "./schema.ts";
 * import assert from "node:assert/strict";
 * assert.ok(schema.usage?.startsWith("schema"));
 * ```
 */
const schema: Command = {
  name: "schema",
  summary: "Print the JSON Schema of the config, for editor completion",
  usage: "schema [--config FILE [--allow-remote-modules]]",
  help: "With --config, the schema also covers the module: plugins that config loads.",
  async run(args) {
    const { values } = parseFlags(args, {
      config: { type: "string", short: "c" },
      "allow-remote-modules": { type: "boolean" },
    });
    const registry = await new Registry([], builtinLoaders).loadAll();
    let modules: ReadonlyMap<string, PluginDefinition> = new Map();
    if (typeof values.config === "string") {
      await using sandbox = new PluginSandbox();
      await loadConfig(values.config, {
        env: processEnv(),
        sandbox,
        allowRemoteModules: values["allow-remote-modules"] === true,
      });
      modules = sandbox.modules;
    }
    console.log(JSON.stringify(buildJsonSchema(registry, modules), null, 2));
    return 0;
  },
};

export default schema;

/**
 * `sluice permissions --config FILE`: the narrowest `deno run` flags for a config.
 *
 * @module
 */

import { loadConfig } from "../../config/load.ts";
import { PluginSandbox } from "../../config/plugin_sandbox.ts";
import type { Command } from "../command.ts";
import { parseFlags, requireConfig } from "../parse_flags.ts";
import { permissionFlags, permissionsOf } from "../permission_flags.ts";
import { processEnv } from "../process_env.ts";

/**
 * Prints, on one line, the `deno run` permission flags that running the config needs and
 * nothing more: `--allow-read` (the config, `module:` plugins, `data_dir`),
 * `--allow-write` (the files sinks write and their directories, `data_dir`), `--allow-net`
 * (the server's address, the hosts network plugins reach), `--allow-env` (every `${VAR}`
 * in the YAML and variables plugins read) and `--allow-sys` when a plugin needs it. Paths
 * are relative to the current directory, so run it from where `sluice run` will run:
 *
 * ```sh
 * deno run $(deno run -A src/cli/main.ts permissions --config sluice.yaml) \
 *   src/cli/main.ts run --config sluice.yaml
 * ```
 *
 * A component whose plugin does not declare its permissions is named on stderr. `module:`
 * plugins are loaded in a sandbox (a `deno run` process without permissions), which answers
 * their `permissions()`; a remote module is refused unless `--allow-remote-modules`, and then
 * its host is printed in `--allow-import`.
 *
 * @example Usage
 * ```ts
 * import permissions from "./permissions.ts";
 * import assert from "node:assert/strict";
 * assert.ok(permissions.usage?.startsWith("permissions --config FILE"));
 * ```
 */
const permissions: Command = {
  name: "permissions",
  summary: "Print the narrowest `deno run` permission flags a config needs",
  usage: "permissions --config FILE [--allow-remote-modules]",
  help: [
    "Without --config: SLUICE_CONFIG, else ./sluice.yaml, else /etc/sluice/sluice.yaml.",
    "module: plugins load in a deno process without permissions; a remote one (https:,",
    "npm:, jsr: …) is fetched only with --allow-remote-modules.",
  ].join("\n"),
  async run(args) {
    const { values } = parseFlags(args, {
      config: { type: "string", short: "c" },
      "allow-remote-modules": { type: "boolean" },
    });
    const file = requireConfig(values);
    await using sandbox = new PluginSandbox();
    const loaded = await loadConfig(file, {
      env: processEnv(),
      sandbox,
      allowRemoteModules: values["allow-remote-modules"] === true,
    });
    const needs = await permissionsOf(loaded, file);
    for (const label of needs.undeclared) {
      console.error(
        `sluice permissions: ${label} does not declare its permissions; add what it needs by hand`,
      );
    }
    console.log(permissionFlags(needs).join(" "));
    return 0;
  },
};

export default permissions;

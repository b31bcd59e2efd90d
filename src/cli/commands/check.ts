/**
 * `sluice check --config FILE`: validate a config without starting anything.
 *
 * @module
 */

import { loadConfig } from "../../config/load.ts";
import { PluginSandbox } from "../../config/plugin_sandbox.ts";
import type { Command } from "../command.ts";
import { parseFlags, requireConfig } from "../parse_flags.ts";
import { processEnv } from "../process_env.ts";

/**
 * Loads and validates the config (YAML, `${VAR}` expansion, `module:` plugins, every
 * validation layer) and prints `ok`; on problems `main` prints each one at `file:line:col`
 * and exits 2. Nothing is opened, bound or started. `module:` plugins are loaded in a
 * sandbox (a `deno run` process without permissions), where each one's options are parsed
 * and its `create()` is called with them: a throw is a problem at the component, a
 * permission the sandbox refused is not. A remote module is refused unless
 * `--allow-remote-modules`.
 *
 * @example Check a config written to a temp dir
 * ```ts
 * import check from "./check.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.yaml`, "sinks:\n  mem: { type: memory }\n");
 * assert.ok((await check.run(["--config", `${dir}/a.yaml`])) === 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
const check: Command = {
  name: "check",
  summary: "Validate a config (every problem at file:line:col; exit 2 if any)",
  usage: "check --config FILE [--allow-remote-modules]",
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
    await using sandbox = new PluginSandbox({ create: true });
    await loadConfig(requireConfig(values), {
      env: processEnv(),
      requireFiles: true,
      sandbox,
      allowRemoteModules: values["allow-remote-modules"] === true,
    });
    console.log("ok");
    return 0;
  },
};

export default check;

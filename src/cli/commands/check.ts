/**
 * `sluice check --config FILE`: validate a config without starting anything.
 *
 * @module
 */

import { loadConfig } from "../../config/load.ts";
import type { Command } from "../command.ts";
import { parseFlags, requireConfig } from "../parse_flags.ts";
import { processEnv } from "../process_env.ts";

/**
 * Loads and validates the config (YAML, `${VAR}` expansion, `module:` plugins, every
 * validation layer) and prints `ok`; on problems `main` prints each one at `file:line:col`
 * and exits 2. Nothing is opened, bound or started.
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
  usage: "check --config FILE",
  help: "Without --config: SLUICE_CONFIG, else ./sluice.yaml, else /etc/sluice/sluice.yaml.",
  async run(args) {
    const { values } = parseFlags(args, { config: { type: "string", short: "c" } });
    await loadConfig(requireConfig(values), { env: processEnv(), requireFiles: true });
    console.log("ok");
    return 0;
  },
};

export default check;

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findPeer, skipWithout } from "../helpers/peers.ts";
import { CLI_MAIN, DENO_JSON } from "../helpers/sluice_process.ts";
import denoJson from "../../deno.json" with { type: "json" };

const UNIT = fileURLToPath(new URL("../../docs/systemd/sluice.service", import.meta.url));
const README = fileURLToPath(new URL("../../README.md", import.meta.url));
const INSTALLED = "/usr/local/bin/sluice";

const analyze = findPeer(
  "systemd-analyze",
  ["--version"],
  "install it with: apt-get install -y systemd",
);

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

Deno.test({
  name: "README's deno install puts a working sluice on the PATH, and systemd-analyze verify " +
    "accepts docs/systemd/sluice.service running it",
  ignore: skipWithout(analyze),
  async fn() {
    const readme = await Deno.readTextFile(README);
    const install = "deno install --global --name sluice -A --config deno.json src/cli/main.ts";
    assert.ok(readme.includes(install), "the README shows the install command tested here");
    assert.ok(readme.includes("docs/systemd/sluice.service"));

    const root = await Deno.makeTempDir({ prefix: "sluice_systemd_" });
    try {
      // The README's command from the checkout, into a temporary root instead of ~/.deno.
      const args = install.replace(/^deno /, "").split(" ")
        .map((a) => a === "deno.json" ? DENO_JSON : a === "src/cli/main.ts" ? CLI_MAIN : a);
      args.splice(1, 0, "--root", root);
      const installed = await run(Deno.execPath(), args);
      assert.equal(installed.code, 0, installed.output);
      const sluice = join(root, "bin", "sluice");
      // The installed command calls `deno` from the PATH.
      const path = `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
      const version = await run(sluice, ["--version"], { PATH: path });
      assert.equal(version.code, 0, version.output);
      assert.equal(version.output.trim(), `sluice ${denoJson.version}`);

      // The unit as shipped, pointed at that command (verify checks ExecStart's executable).
      const unit = await Deno.readTextFile(UNIT);
      assert.match(
        unit,
        new RegExp(`^ExecStart=${INSTALLED} run --config /etc/sluice/sluice\\.yaml`, "m"),
      );
      assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
      const file = join(root, "sluice.service");
      await Deno.writeTextFile(file, unit.replaceAll(INSTALLED, sluice));
      const verified = await run(analyze.command, ["verify", file]);
      assert.equal(verified.code, 0, verified.output);
      // Unknown keys and bad values are only warnings (exit 0): the unit must have none.
      assert.equal(verified.output, "", verified.output);

      // Not vacuous: a misspelled key is said.
      await Deno.writeTextFile(file, unit.replaceAll(INSTALLED, sluice).replace("Type=", "Tpye="));
      const typo = await run(analyze.command, ["verify", file]);
      assert.match(typo.output, /Unknown key 'Tpye'/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

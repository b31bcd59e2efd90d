/**
 * A user's script anywhere imports mod.ts (by path or file URL) and configures Sluice from
 * an object or a YAML file; `sluice check` runs from another directory too. Each script is
 * written to a temporary directory outside the repo and run by a real `deno` with no config
 * of ours, as a user's would be: no import map names our dependencies there.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MOD_URL = new URL("../../mod.ts", import.meta.url);
const CLI_PATH = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** Runs `deno run -A script.ts ...args` in `cwd` with no config file (as outside any project). */
async function runOutside(
  cwd: string,
  source: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  await Deno.writeTextFile(`${cwd}/script.ts`, source);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${cwd}/script.ts`, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_outside_" });
  try {
    assert.ok(!dir.startsWith(fileURLToPath(new URL("../../", import.meta.url))));
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a script in another directory imports mod.ts by absolute path and configures from an object", async () => {
  await inTempDir(async (dir) => {
    const result = await runOutside(
      dir,
      `import { configure, getLogger, shutdown } from ${JSON.stringify(fileURLToPath(MOD_URL))};
await configure({
  sources: { app: { type: "logger" } },
  sinks: { out: { type: "file", path: "out.log", format: "json" } },
});
getLogger("outside").warning("from an object", { n: 1 });
await shutdown();
`,
    );
    assert.equal(result.code, 0, result.stderr);
    const line = JSON.parse(await Deno.readTextFile(`${dir}/out.log`));
    assert.equal(line.message, "from an object");
    assert.equal(line.n, 1);
  });
});

Deno.test("a script in another directory imports mod.ts by file URL and configures from a YAML file", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/sluice.yaml`,
      "sources:\n  app: { type: logger }\nsinks:\n  out: { type: file, path: out.log, format: json }\n",
    );
    const result = await runOutside(
      dir,
      `import { configure, getLogger, shutdown } from ${JSON.stringify(MOD_URL.href)};
await configure("sluice.yaml");
getLogger("outside").error("from YAML");
await shutdown();
`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/out.log`)).message, "from YAML");
  });
});

Deno.test("sluice check runs from another directory on a config with nats and postgres sinks", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/agent.yaml`,
      `sources:
  app: { type: logger }
sinks:
  bus: { type: nats, servers: ["nats://127.0.0.1:4222"], stream: LOGS, subject: logs.app }
  db: { type: postgres, url: "postgres://sluice@127.0.0.1:5432/logs" }
`,
    );
    // The CLI as a user's own launcher imports it, from their directory.
    const launcher = `import { main } from ${JSON.stringify(CLI_PATH)};
Deno.exit(await main(Deno.args));
`;
    const ok = await runOutside(dir, launcher, ["check", "--config", "agent.yaml"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "ok");
    // And a mistake in either sink is still found and positioned.
    await Deno.writeTextFile(
      `${dir}/agent.yaml`,
      `sinks:
  db: { type: postgres, url: "postgres://sluice@127.0.0.1:5432/logs", tabel: logs }
`,
    );
    const bad = await runOutside(dir, launcher, ["check", "--config", "agent.yaml"]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /agent\.yaml:2:\d+: sinks\.db\.tabel/);
  });
});

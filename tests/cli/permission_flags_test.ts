import assert from "node:assert/strict";
import { loadConfig } from "../../mod.ts";
import { permissionFlags, permissionsOf } from "../../src/cli/permission_flags.ts";

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_perm_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("permissions: config, data_dir, sink directories, listen address and referenced variables", async () => {
  await inTempDir(async (dir) => {
    const file = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "# ${IN_A_COMMENT} is not a reference",
        "server: { listen: '0.0.0.0:${PORT:-9700}', token: '${TOKEN:-dev-0123456789abcd}' }",
        "data_dir: state",
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        "  a: { type: file, path: logs/a.log }",
        "  b: { type: file, path: logs/nested/b.log }",
        "  c: { type: file, path: /var/tmp/sluice-test/c.log }",
        "  out: { type: console }",
        "",
      ].join("\n"),
    );
    const permissions = await permissionsOf(await loadConfig(file, { env: {} }), file);
    assert.deepEqual(permissions.undeclared, []);
    assert.deepEqual(permissionFlags(permissions, dir), [
      "--allow-read=logs,sluice.yaml,state,/var/tmp/sluice-test",
      "--allow-write=logs,state,/var/tmp/sluice-test",
      "--allow-net=0.0.0.0:9700",
      "--allow-env=LOG_STREAM,LOG_TOKENS,NO_COLOR,PORT,TOKEN",
    ]);
  });
});

Deno.test("permissions: port 0 grants the host, a module plugin and its local imports are readable", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/plugins/lib`, { recursive: true });
    await Deno.writeTextFile(`${dir}/plugins/lib/helper.ts`, "export const mask = '***';\n");
    const sluice = new URL("../../mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/plugins/mask.ts`,
      [
        `import { definePlugin, s } from "${sluice}";`,
        'import { mask } from "./lib/helper.ts";',
        "export default definePlugin({",
        '  kind: "processor", type: "mask", description: "Masks messages.",',
        "  options: s.object({}),",
        "  create: () => (record) => ({ ...record, message: mask }),",
        "});",
        "",
      ].join("\n"),
    );
    const file = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "server: { listen: 127.0.0.1:0 }",
        "sources:",
        "  app: { type: logger }",
        "processors:",
        "  masked: { module: ./plugins/mask.ts, inputs: [app] }",
        "sinks:",
        "  mem: { type: memory, inputs: [masked] }",
        "",
      ].join("\n"),
    );
    const flags = permissionFlags(
      await permissionsOf(await loadConfig(file, { env: {} }), file),
      dir,
    );
    assert.deepEqual(flags, [
      "--allow-read=.sluice,plugins/lib/helper.ts,plugins/mask.ts,sluice.yaml",
      "--allow-write=.sluice",
      "--allow-net=127.0.0.1",
      "--allow-env=LOG_STREAM,LOG_TOKENS",
    ]);
  });
});

Deno.test("permissions: a sink whose plugin declares nothing is reported as undeclared", async () => {
  const { definePlugin, s } = await import("../../mod.ts");
  const opaque = definePlugin({
    kind: "sink",
    type: "opaque",
    description: "A sink that does not declare its permissions.",
    options: s.object({}),
    create: () => ({ write() {}, [Symbol.asyncDispose]: () => Promise.resolve() }),
  });
  await inTempDir(async (dir) => {
    const file = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(file, "sinks:\n  x: { type: opaque }\n");
    const loaded = await loadConfig(file, { env: {}, plugins: [opaque as never] });
    const permissions = await permissionsOf(loaded, file);
    assert.deepEqual(permissions.undeclared, ["sinks.x (opaque)"]);
  });
});

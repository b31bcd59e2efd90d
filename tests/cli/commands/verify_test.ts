import assert from "node:assert/strict";
import { configure, getLogger, shutdown } from "../../../mod.ts";
import { runCli } from "../../helpers/sluice_process.ts";

const SECRET = "verify test secret, long enough!";

/** Writes `count` chained JSON records through a real pipeline and returns the lines. */
async function writeChained(path: string, count: number): Promise<string[]> {
  Deno.env.set("VERIFY_TEST_CHAIN_KEY", SECRET);
  try {
    await configure({
      sources: { app: { type: "logger" } },
      sinks: { out: { type: "file", path, chain: { key_env: "VERIFY_TEST_CHAIN_KEY" } } },
    });
    for (let i = 0; i < count; i++) getLogger("audit").info(`event ${i}`, { i });
    await shutdown();
  } finally {
    Deno.env.delete("VERIFY_TEST_CHAIN_KEY");
  }
  return (await Deno.readTextFile(path)).trimEnd().split("\n");
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("sluice verify: an edited, deleted, reordered or inserted line is reported at its file and line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = await writeChained(`${dir}/intact.log`, 50);
    const write = (name: string, content: string[]) =>
      Deno.writeTextFile(`${dir}/${name}`, content.join("\n") + "\n");
    await write(
      "edited.log",
      lines.map((l, i) => (i === 11 ? l.replace("event 11", "event 99") : l)),
    );
    await write("deleted.log", lines.filter((_, i) => i !== 20));
    const reordered = [...lines];
    [reordered[30], reordered[31]] = [reordered[31]!, reordered[30]!];
    await write("reordered.log", reordered);
    await write("inserted.log", [
      ...lines.slice(0, 40),
      '{"message":"forged"}',
      ...lines.slice(40),
    ]);
    await Deno.writeFile(`${dir}/intact.log.1.gz`, await gzip(lines.join("\n") + "\n"));

    const files = [
      "intact.log",
      "edited.log",
      "deleted.log",
      "reordered.log",
      "inserted.log",
      "intact.log.1.gz",
    ]
      .map((name) => `${dir}/${name}`);
    const result = await runCli(["verify", ...files], { env: { SLUICE_CHAIN_KEY: SECRET } });
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trimEnd().split("\n"), [
      `${dir}/intact.log: ok, 50 records`,
      `${dir}/intact.log.1.gz: ok, 50 records`,
    ]);
    const errors = result.stderr.trimEnd().split("\n");
    assert.equal(errors.length, 4);
    assert.match(
      errors[0]!,
      new RegExp(`^${dir}/edited.log:12: chain MAC of line 12 does not match`),
    );
    assert.match(
      errors[1]!,
      new RegExp(`^${dir}/deleted.log:21: chain MAC of line 21 does not match`),
    );
    assert.match(errors[2]!, new RegExp(`^${dir}/reordered.log:31: `));
    assert.match(
      errors[3]!,
      new RegExp(`^${dir}/inserted.log:41: chain MAC of lines 41-42 does not match`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice verify: a truncated last line and a wrong secret are reported", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = await writeChained(`${dir}/app.log`, 5);
    await Deno.writeTextFile(`${dir}/cut.log`, lines.join("\n").slice(0, -20));
    const cut = await runCli(["verify", `${dir}/cut.log`], { env: { SLUICE_CHAIN_KEY: SECRET } });
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, new RegExp(`${dir}/cut.log:5: line 5 has no chain MAC`));
    const wrong = await runCli(["verify", "--key-env", "OTHER", `${dir}/app.log`], {
      env: { OTHER: "a different secret of enough length" },
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, new RegExp(`${dir}/app.log:1: chain MAC of line 1 does not match`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice verify: --key-file reads the secret from a file; usage errors exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeChained(`${dir}/app.log`, 3);
    await Deno.writeTextFile(`${dir}/chain.key`, SECRET + "\n", { mode: 0o600 });
    const ok = await runCli(["verify", "--key-file", `${dir}/chain.key`, `${dir}/app.log`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${dir}/app.log: ok, 3 records\n`);
    const none = await runCli(["verify"], { env: { SLUICE_CHAIN_KEY: SECRET } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no file given/);
    const noKey = await runCli(["verify", "--key-env", "VERIFY_TEST_UNSET", `${dir}/app.log`]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /"VERIFY_TEST_UNSET" is not set/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The migration guides' Sluice code runs: each guide's `ts` block is run as a program in a
 * temporary directory, and what it prints and writes is what the guide says.
 */

import assert from "node:assert/strict";
import { DENO_JSON } from "../helpers/sluice_process.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

async function runGuide(name: string): Promise<{ stdout: string; dir: string }> {
  const guide = await Deno.readTextFile(new URL(`../../docs/${name}`, import.meta.url));
  // Every block is `ts ignore` (deno test --doc would run it with the repository as its
  // directory); the Sluice one is the block that imports ../mod.ts.
  const blocks = [...guide.matchAll(/```ts ignore\n([\s\S]*?)```/g)].map((m) => m[1]!)
    .filter((code) => code.includes('"../mod.ts"'));
  assert.equal(blocks.length, 1, `${name}: one Sluice block`);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/main.ts`,
    blocks[0]!.replace('"../mod.ts"', JSON.stringify(MOD)),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--check", `--config=${DENO_JSON}`, "-A", `${dir}/main.ts`],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return { stdout: new TextDecoder().decode(out.stdout), dir };
}

const lines = (text: string) => text.trimEnd().split("\n");

Deno.test("migrating from @std/log: the Sluice side runs; the root's info and tasks' debug reach the console", async () => {
  const { stdout, dir } = await runGuide("migrating_from_std_log.md");
  try {
    assert.deepEqual(
      lines(stdout),
      ["INFO root started", "DEBUG tasks queued"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrating from LogTape: tagged template, context and child fields; my-app at info", async () => {
  const { stdout, dir } = await runGuide("migrating_from_logtape.md");
  try {
    const file = lines(await Deno.readTextFile(`${dir}/logs/app.log`)).map((l) => JSON.parse(l));
    const drop = ({ time: _, ...rest }: Record<string, unknown>) => rest;
    assert.deepEqual(file.map(drop), [
      { level: "INFO", logger: "my-app.db", message: "user 42 paid 12.5", args: [42, 12.5] },
      { level: "INFO", logger: "my-app.db", message: "User 42 logged in", id: 42 },
      { level: "WARN", logger: "my-app.db", message: "slow", requestId: "r-1", shard: 3 },
    ]);
    assert.equal(lines(stdout).length, 3, stdout);
    assert.match(lines(stdout)[2]!, /WARN my-app\.db - slow/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrating from pino: pino's line shape, base fields, redaction, the error as a field", async () => {
  const { dir } = await runGuide("migrating_from_pino.md");
  try {
    const [placed, failed] = lines(await Deno.readTextFile(`${dir}/logs/app.log`)).map((l) =>
      JSON.parse(l)
    );
    assert.equal(typeof placed.time, "number");
    assert.deepEqual({ ...placed, time: 0 }, {
      time: 0,
      level: 20,
      logger: "checkout",
      msg: "order placed",
      service: "checkout",
      orderId: "A-1",
    });
    assert.equal(failed.level, 40);
    assert.equal(failed.msg, "payment failed");
    assert.equal(failed.requestId, "r-1");
    assert.equal(failed.error.message, "card declined");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

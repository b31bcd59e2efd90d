import assert from "node:assert/strict";
import { Trash } from "../../../../plugins/sinks/rotating_file/trash.ts";
import { freezeDirectory, skipWithoutFreeze } from "../../../helpers/peers.ts";

Deno.test("Trash frees names at once and deletes a whole batch in one operation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trash = new Trash((n) => `${dir}/.batch-${n}`);
    for (let i = 0; i < 5; i++) {
      Deno.writeTextFileSync(`${dir}/app.log.${i}`, "x".repeat(1000));
      trash.take(`${dir}/app.log.${i}`);
      assert.throws(() => Deno.statSync(`${dir}/app.log.${i}`), Deno.errors.NotFound);
    }
    assert.equal(trash.waiting, 5);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [".batch-1"]);
    assert.deepEqual(await trash.empty(), { removed: 5 });
    assert.equal(trash.waiting, 0);
    assert.deepEqual(await trash.empty(), { removed: 0 }, "an empty trash removes nothing");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // The next batch gets a new directory.
    Deno.writeTextFileSync(`${dir}/late`, "");
    trash.take(`${dir}/late`);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [".batch-2"]);
    assert.deepEqual(await trash.empty(), { removed: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Trash skips a batch name an earlier process left and takes nothing that is gone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.mkdirSync(`${dir}/.batch-1`);
    const trash = new Trash((n) => `${dir}/.batch-${n}`);
    assert.throws(() => trash.take(`${dir}/missing`), Deno.errors.NotFound);
    assert.equal(trash.waiting, 0);
    assert.ok(trash.open, "its batch directory exists and is still removed by empty()");
    Deno.writeTextFileSync(`${dir}/a`, "a");
    trash.take(`${dir}/a`);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/.batch-2`)].map((e) => e.name),
      ["0"],
      "the leftover .batch-1 is not reused",
    );
    assert.deepEqual(await trash.empty(), { removed: 1 });
    assert.ok(Deno.statSync(`${dir}/.batch-1`).isDirectory, "and not touched");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Trash deletes at once when it cannot make a batch directory (mkdir fails on a full disk)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trash = new Trash((n) => `${dir}/missing-parent/.batch-${n}`);
    Deno.writeTextFileSync(`${dir}/app.log.3`, "old");
    assert.equal(trash.take(`${dir}/app.log.3`), false, "deleted, not waiting");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    assert.equal(trash.waiting, 0);
    assert.equal(trash.open, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "Trash reports a batch it cannot remove and removes it on the next empty()",
  ignore: skipWithoutFreeze(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const freeze = freezeDirectory;
    try {
      const trash = new Trash((n) => `${dir}/.batch-${n}`);
      Deno.writeTextFileSync(`${dir}/a`, "a");
      assert.equal(trash.take(`${dir}/a`), true);
      assert.ok(freeze(`${dir}/.batch-1`, true), "the directory can be made read-only here");
      const failed = await trash.empty();
      assert.equal(failed.removed, 0);
      assert.ok(failed.error instanceof Error, "the failure is returned");
      assert.equal(trash.open, true, "and kept for a retry");
      freeze(`${dir}/.batch-1`, false);
      assert.deepEqual(await trash.empty(), { removed: 1 });
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      try {
        freeze(`${dir}/.batch-1`, false);
      } catch {
        // Already removed.
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("Trash prepare() makes the next batch ahead, which take() uses and empty(true) keeps while empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trash = new Trash((n) => `${dir}/.batch-${n}`);
    await trash.prepare();
    assert.ok(trash.open && !trash.pending);
    assert.deepEqual(await trash.empty(true), { removed: 0 });
    assert.ok(Deno.statSync(`${dir}/.batch-1`).isDirectory, "kept for the next files");
    Deno.writeTextFileSync(`${dir}/a`, "a");
    trash.take(`${dir}/a`);
    assert.deepEqual([...Deno.readDirSync(`${dir}/.batch-1`)].map((e) => e.name), ["0"]);
    assert.ok(trash.pending);
    assert.deepEqual(await trash.empty(true), { removed: 1 });
    await trash.prepare();
    assert.deepEqual(await trash.empty(), { removed: 0 });
    assert.deepEqual([...Deno.readDirSync(dir)], [], "without keepEmpty it goes too");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

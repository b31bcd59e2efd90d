import assert from "node:assert/strict";
import { WorkDir } from "../../../../plugins/sinks/rotating_file/work_dir.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("WorkDir sweep removes only its own naming from a directory with its marker, and leaves the rest", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const crashed = new WorkDir(`${dir}/app.log`);
    const spare = crashed.entry("next-1");
    Deno.writeTextFileSync(spare, "");
    Deno.mkdirSync(crashed.entry("delete-2"));
    Deno.writeTextFileSync(crashed.entry("delete-2/0"), "old");
    // Put there by someone else: a file of another name, a batch-named directory of theirs.
    Deno.writeTextFileSync(crashed.entry("notes.txt"), "theirs");
    Deno.mkdirSync(crashed.entry("delete-3"));
    Deno.writeTextFileSync(crashed.entry("delete-3/precious.txt"), "theirs");
    crashed.abandon();
    const work = spare.slice(dir.length + 1, -"/next-1".length);
    // A copy of that directory under another run's name: its marker names another run.
    const copy = work.replace(/sluice-[0-9a-f]{16}/, "sluice-0000000000000000");
    Deno.mkdirSync(`${dir}/${copy}`);
    Deno.copyFileSync(`${dir}/${work}/owner`, `${dir}/${copy}/owner`);
    Deno.writeTextFileSync(`${dir}/${copy}/next-1`, "theirs");

    const removed = new WorkDir(`${dir}/app.log`).sweep();
    assert.deepEqual(removed.map((p) => p.slice(dir.length + 1)).sort(), [
      `${work}/delete-2`,
      `${work}/next-1`,
    ]);
    assert.deepEqual(names(`${dir}/${work}`), ["delete-3", "notes.txt", "owner"]);
    assert.deepEqual(names(`${dir}/${copy}`), ["next-1", "owner"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("WorkDir makes its directory on first use only, and close() removes it when empty", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const work = new WorkDir(`${dir}/app.log`);
    work.close();
    assert.deepEqual(names(dir), []);
    const path = work.entry("next-1");
    assert.match(path, /\/\.app\.log\.sluice-[0-9a-f]{16}\.tmp\/next-1$/);
    assert.equal(names(dir).length, 1);
    work.close();
    assert.deepEqual(names(dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("WorkDir sweep leaves the work directory of a sink still open in this process (a reload's old sink)", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const draining = new WorkDir(`${dir}/app.log`);
    const compressing = draining.entry("compress-1");
    Deno.writeTextFileSync(compressing, "half written");
    assert.deepEqual(new WorkDir(`${dir}/app.log`).sweep(), []);
    assert.equal(Deno.readTextFileSync(compressing), "half written");
    Deno.removeSync(compressing);
    draining.close();
    assert.deepEqual(names(dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

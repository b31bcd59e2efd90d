import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WorkDir } from "../../../../plugins/sinks/rotating_file/work_dir.ts";

const WORK_DIR = fileURLToPath(
  new URL("../../../../plugins/sinks/rotating_file/work_dir.ts", import.meta.url),
);

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
    assert.deepEqual(names(`${dir}/${work}`), ["delete-3", "lock", "notes.txt", "owner"]);
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
    const reloaded = new WorkDir(`${dir}/app.log`);
    assert.equal(reloaded.claim(), undefined, "this process's own open sink is no other run");
    assert.deepEqual(reloaded.sweep(), []);
    assert.equal(Deno.readTextFileSync(compressing), "half written");
    Deno.removeSync(compressing);
    draining.close();
    reloaded.close();
    assert.deepEqual(names(dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * Starts a Deno process whose WorkDir for `live` claims its work directory and writes a
 * spare file there, and resolves once it has (with the spare's path); the process then waits
 * until killed.
 */
async function startHolder(live: string) {
  const code = `import { WorkDir } from ${JSON.stringify(WORK_DIR)};
const work = new WorkDir(${JSON.stringify(live)});
work.claim();
const spare = work.entry("next-1");
Deno.writeTextFileSync(spare, "spare");
console.log(spare);
setInterval(() => {}, 1000);
`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the holder exited before claiming its work directory");
    out += value;
  }
  let killed: Promise<unknown> | undefined;
  return {
    pid: child.pid,
    spare: out.trim(),
    kill() {
      killed ??= (child.kill("SIGKILL"), Promise.all([child.status, reader.cancel()]));
      return killed;
    },
  };
}

Deno.test("WorkDir sweep leaves another live process's work directory, claim() names its pid, and its lock goes with a SIGKILL", async () => {
  const dir = Deno.makeTempDirSync();
  const holder = await startHolder(`${dir}/app.log`);
  try {
    const work = new WorkDir(`${dir}/app.log`);
    assert.deepEqual(work.claim()?.pid, holder.pid);
    assert.deepEqual(work.sweep(), []);
    assert.equal(Deno.readTextFileSync(holder.spare), "spare");
    work.close();
    assert.equal(names(dir).length, 1, "only the holder's work directory is left");

    await holder.kill();
    const next = new WorkDir(`${dir}/app.log`);
    assert.equal(next.claim(), undefined, "a killed process holds no lock");
    assert.deepEqual(next.sweep(), [holder.spare]);
    next.close();
    assert.deepEqual(names(dir), []);
  } finally {
    await holder.kill();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("WorkDir sweeps a marked work directory without a lock file, as a version before locks left it", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const old = new WorkDir(`${dir}/app.log`);
    const spare = old.entry("next-1");
    Deno.writeTextFileSync(spare, "");
    old.abandon();
    Deno.removeSync(join(dirname(spare), "lock"));
    const next = new WorkDir(`${dir}/app.log`);
    assert.equal(next.claim(), undefined);
    assert.deepEqual(next.sweep(), [spare]);
    next.close();
    assert.deepEqual(names(dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

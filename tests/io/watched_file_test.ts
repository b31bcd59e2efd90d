import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { createRecord } from "../../src/core/record.ts";
import { WatchedFile } from "../../src/io/watched_file.ts";
import { Pipeline } from "../../src/pipeline/pipeline.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import type { SourceContext } from "../../src/plugin/types.ts";
import { s } from "../../src/schema/schema.ts";

const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("WatchedFile reopens the path after the file is moved away (logrotate create)", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = new WatchedFile(`${dir}/app.log`, { checkInterval: 0 });
    file.write(encode("one\n"));
    Deno.renameSync(`${dir}/app.log`, `${dir}/app.log.1`);
    file.write(encode("two\n"));
    file.close();
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.1`), "one\n");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "two\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("WatchedFile recreates a deleted file and notices copytruncate", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = new WatchedFile(`${dir}/app.log`, { checkInterval: 0 });
    file.write(encode("one\n"));
    Deno.removeSync(`${dir}/app.log`);
    assert.equal(file.check(), "reopened");
    file.write(encode("two\n"));
    assert.equal(file.size, 4);
    Deno.truncateSync(`${dir}/app.log`, 0);
    assert.equal(file.check(), "truncated");
    assert.equal(file.size, 0);
    file.write(encode("three\n"));
    file.close();
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "three\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("WatchedFile checks the path at most once per interval of its clock", () => {
  const dir = Deno.makeTempDirSync();
  try {
    let now = 0;
    const file = new WatchedFile(`${dir}/app.log`, { now: () => now, checkInterval: 1000 });
    Deno.renameSync(`${dir}/app.log`, `${dir}/moved.log`);
    file.write(encode("still the old file\n"));
    now = 1000;
    file.write(encode("new file\n"));
    file.close();
    assert.equal(Deno.readTextFileSync(`${dir}/moved.log`), "still the old file\n");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "new file\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("WatchedFile rethrows a failed write and keeps its size", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.symlinkSync("/dev/full", `${dir}/app.log`);
    const file = new WatchedFile(`${dir}/app.log`, { checkInterval: 0 });
    assert.throws(() => file.write(encode("lost\n")), /No space left on device/);
    assert.equal(file.size, 0);
    file.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// A source the test drives by hand.
const contexts = new Map<string, SourceContext>();
const handSource = definePlugin({
  kind: "source",
  type: "test_hand",
  description: "Emits what the test hands it.",
  options: s.object({}),
  create(_options, context) {
    contexts.set(context.id, context);
    return { start() {}, [Symbol.asyncDispose]: () => Promise.resolve() };
  },
});

Deno.test("file and rotating_file sinks reopen their files on pipeline.reopen() (SIGHUP) after an outside rotation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { config, formatters } = await loadConfig({
      sources: { hand: { type: "test_hand" } },
      sinks: {
        plain: { type: "file", path: "plain.log", format: { type: "text", pattern: "{message}" } },
        rotating: {
          type: "rotating_file",
          path: "rotating.log",
          format: { type: "text", pattern: "{message}" },
          max_bytes: "1MiB",
        },
      },
    }, { plugins: [handSource], baseDir: dir });
    await using pipeline = await Pipeline.create(config, { formatters });
    await pipeline.start();
    const hand = contexts.get("hand")!;
    await hand.emit([createRecord({ message: "before" })]);
    assert.ok(await pipeline.flush());
    for (const name of ["plain", "rotating"]) {
      await Deno.rename(`${dir}/${name}.log`, `${dir}/${name}.log.old`);
    }
    pipeline.reopen();
    await hand.emit([createRecord({ message: "after" })]);
    assert.ok(await pipeline.flush());
    for (const name of ["plain", "rotating"]) {
      assert.equal(await Deno.readTextFile(`${dir}/${name}.log.old`), "before\n", name);
      assert.equal(await Deno.readTextFile(`${dir}/${name}.log`), "after\n", name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the file sink follows an outside move on its own within a second", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { config, formatters } = await loadConfig({
      sources: { hand2: { type: "test_hand" } },
      sinks: {
        plain: { type: "file", path: "plain.log", format: { type: "text", pattern: "{message}" } },
      },
    }, { plugins: [handSource], baseDir: dir });
    await using pipeline = await Pipeline.create(config, { formatters });
    await pipeline.start();
    const hand = contexts.get("hand2")!;
    await hand.emit([createRecord({ message: "before" })]);
    assert.ok(await pipeline.flush());
    await Deno.rename(`${dir}/plain.log`, `${dir}/plain.log.1`);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the check interval
    await hand.emit([createRecord({ message: "after" })]);
    assert.ok(await pipeline.flush());
    assert.equal(await Deno.readTextFile(`${dir}/plain.log.1`), "before\n");
    assert.equal(await Deno.readTextFile(`${dir}/plain.log`), "after\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WatchedFile adopt() takes a handle of the file renamed to its path, without opening it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const watched = new WatchedFile(`${dir}/app.log`);
    watched.write(new TextEncoder().encode("old\n"));
    watched.close();
    Deno.renameSync(`${dir}/app.log`, `${dir}/app.log.1`);
    const file = Deno.openSync(`${dir}/next`, { append: true, createNew: true });
    const info = file.statSync();
    Deno.renameSync(`${dir}/next`, `${dir}/app.log`);
    watched.adopt(file, { dev: info.dev, ino: info.ino ?? 0, size: info.size });
    assert.equal(watched.check(), undefined, "the path is the adopted file");
    watched.write(new TextEncoder().encode("new\n"));
    watched.close();
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "new\n");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.1`), "old\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

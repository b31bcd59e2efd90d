import assert from "node:assert/strict";
import { CheckpointStore } from "../../../../plugins/sources/file/checkpoints.ts";
import {
  FileTailer,
  type FileTailerOptions,
} from "../../../../plugins/sources/file/file_tailer.ts";
import { compileGlob } from "../../../../plugins/sources/file/glob.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}

function tailer(dir: string, pattern: string, extra: Partial<FileTailerOptions> = {}) {
  const lines: string[] = [];
  const errors: string[] = [];
  const events: string[] = [];
  const t = new FileTailer({
    include: [compileGlob(pattern, dir)],
    pollInterval: 10,
    scanInterval: 30,
    rotateWait: 100,
    deliver: (batch) => {
      lines.push(...batch.lines);
      return Promise.resolve();
    },
    events: {
      error: (operation, message) => errors.push(`${operation}: ${message}`),
      truncated: (path) => events.push(`truncated ${path.slice(dir.length + 1)}`),
      released: (path) => events.push(`released ${path.slice(dir.length + 1)}`),
    },
    ...extra,
  });
  t.start();
  return { t, lines, errors, events };
}

const numbered = (from: number, to: number) => {
  let text = "";
  for (let i = from; i < to; i++) text += `2026-11-24T10:00:00.000Z entry number ${i}\n`;
  return text;
};

Deno.test("FileTailer reads a file rewritten past its old size between two polls from the start again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.log`, numbered(0, 10));
    const { t, lines, events } = tailer(dir, "app.log");
    await until("the first lines", () => lines.length === 10);
    // Truncate and write more than before, all before the next poll sees a smaller size.
    await Deno.writeTextFile(`${dir}/app.log`, numbered(100, 130).replaceAll("entry", "ENTRY"));
    await until("the rewritten lines", () => lines.length === 40);
    await t.stop();
    assert.deepEqual(events, ["truncated app.log"]);
    assert.equal(lines[10], "2026-11-24T10:00:00.000Z ENTRY number 100");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileTailer does not read a copy of a followed file twice", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.log`, numbered(0, 50));
    const { t, lines } = tailer(dir, "app.log*");
    await until("the first lines", () => lines.length === 50);
    await Deno.copyFile(`${dir}/app.log`, `${dir}/app.log.bak`);
    await Deno.writeTextFile(`${dir}/app.log`, numbered(50, 60), { append: true });
    await until("the appended lines", () => lines.length >= 60);
    await sleep(200);
    await t.stop();
    assert.equal(lines.length, 60);
    assert.equal(new Set(lines).size, 60);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileTailer keeps going when checkpoints cannot be saved, and reports it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/blocker`, "a file where the state directory should be");
    await Deno.writeTextFile(`${dir}/app.log`, numbered(0, 5));
    const { t, lines, errors } = tailer(dir, "app.log", {
      checkpoints: new CheckpointStore(`${dir}/blocker/state/tail.json`),
      checkpointInterval: 10,
    });
    await until("the lines", () => lines.length === 5);
    await t.stop();
    assert.ok(
      errors.some((e) => e.startsWith("checkpoint: Cannot save checkpoints")),
      String(errors),
    );
    assert.ok(errors.every((e) => e.startsWith("checkpoint: ")), String(errors));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileTailer sets a corrupt checkpoint file aside and starts from the beginning", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/tail.json`, "{oops");
    await Deno.writeTextFile(`${dir}/app.log`, numbered(0, 3));
    const { t, lines, errors } = tailer(dir, "app.log", {
      checkpoints: new CheckpointStore(`${dir}/tail.json`),
    });
    await until("the lines", () => lines.length === 3);
    await t.stop();
    assert.match(errors[0] ?? "", /^checkpoint: Cannot read checkpoints/);
    assert.equal(await Deno.readTextFile(`${dir}/tail.json.corrupt`), "{oops");
    assert.equal(new CheckpointStore(`${dir}/tail.json`).load()[0]?.offset, numbered(0, 3).length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileTailer releases a renamed-away file after reading it to its end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.log`, numbered(0, 5));
    const { t, lines, events } = tailer(dir, "app.log");
    await until("the lines", () => lines.length === 5);
    await Deno.writeTextFile(`${dir}/app.log`, numbered(5, 8), { append: true });
    await Deno.rename(`${dir}/app.log`, `${dir}/app.log.1`);
    await Deno.writeTextFile(`${dir}/app.log`, numbered(8, 12).replaceAll("entry", "new"));
    await until("the release", () => events.includes("released app.log"));
    await until("the new file", () => lines.length === 12);
    await t.stop();
    assert.equal(new Set(lines).size, 12);
    assert.deepEqual(t.files, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileTailer reads a copytruncate copy from where the original was left even when it sees the copy first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.log`, numbered(0, 50));
    // Scanning on every turn, before the truncation of the original is noticed.
    const { t, lines } = tailer(dir, "app.log*", { scanInterval: 0 });
    await until("the first lines", () => lines.length === 50);
    await Deno.writeTextFile(`${dir}/app.log`, numbered(50, 60), { append: true }); // unread yet
    Deno.copyFileSync(`${dir}/app.log`, `${dir}/app.log.1`);
    Deno.truncateSync(`${dir}/app.log`, 0);
    Deno.writeTextFileSync(`${dir}/app.log`, numbered(60, 65).replaceAll("entry", "after"));
    await until("every line", () => lines.length >= 65);
    await sleep(200);
    await t.stop();
    assert.equal(lines.length, 65);
    assert.equal(new Set(lines).size, 65);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileTailer saves the position of a truncated file whose copy has not been seen yet", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new CheckpointStore(`${dir}/state/tail.json`);
    await Deno.writeTextFile(`${dir}/app.log`, numbered(0, 50));
    const first = tailer(dir, "app.log", { checkpoints: store, rotateWait: 60_000 });
    await until("the first lines", () => first.lines.length === 50);
    await Deno.writeTextFile(`${dir}/app.log`, numbered(50, 60), { append: true });
    await until("more lines", () => first.lines.length === 60);
    // copytruncate, with the copy outside the include pattern for now.
    Deno.copyFileSync(`${dir}/app.log`, `${dir}/copy.log`);
    Deno.truncateSync(`${dir}/app.log`, 0);
    await until("the truncation", () => first.events.includes("truncated app.log"));
    await first.t.stop();
    // After a restart the copy shows up under a matching name.
    Deno.renameSync(`${dir}/copy.log`, `${dir}/app.log.1`);
    Deno.writeTextFileSync(`${dir}/app.log`, numbered(60, 62).replaceAll("entry", "after"));
    const second = tailer(dir, "app.log*", { checkpoints: store });
    await until("the new lines", () => second.lines.length >= 2);
    await sleep(200);
    await second.t.stop();
    assert.deepEqual(second.lines.map((l) => l.split(" ").pop()), ["60", "61"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

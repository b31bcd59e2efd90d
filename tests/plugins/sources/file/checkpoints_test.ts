import assert from "node:assert/strict";
import {
  type Checkpoint,
  CheckpointStore,
  hashBytes,
} from "../../../../plugins/sources/file/checkpoints.ts";

const entry = (offset: number): Checkpoint => ({
  dev: 1,
  ino: 2,
  path: "/logs/app.log",
  head_len: 1024,
  head_hash: "00ff00ff00ff00ff",
  mark_hash: "",
  offset,
  updated: 5,
});

Deno.test("CheckpointStore saves atomically and loads what it saved", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const store = new CheckpointStore(`${dir}/state/file_source/tail.json`);
    assert.deepEqual(store.load(), [], "no file yet: no checkpoints");
    store.save([entry(10)]);
    store.save([entry(20), { ...entry(30), ino: 3, released: 9 }]);
    assert.deepEqual(store.load(), [entry(20), { ...entry(30), ino: 3, released: 9 }]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/state/file_source`)].map((e) => e.name), [
      "tail.json",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("CheckpointStore names a corrupt file in its error", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/tail.json`, "{not json");
    assert.throws(
      () => new CheckpointStore(`${dir}/tail.json`).load(),
      /tail\.json" is not valid JSON/,
    );
    Deno.writeTextFileSync(`${dir}/tail.json`, "{}");
    assert.throws(() => new CheckpointStore(`${dir}/tail.json`).load(), /has no "files" list/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hashBytes tells different heads apart", () => {
  const enc = new TextEncoder();
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) seen.add(hashBytes(enc.encode(`2026-11-24 line ${i}\n`)));
  assert.equal(seen.size, 10_000);
});

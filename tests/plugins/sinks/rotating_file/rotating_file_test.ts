import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { loadConfig } from "../../../../src/config/load.ts";
import { createRecord, type LogRecord } from "../../../../src/core/record.ts";
import { createInternalLog } from "../../../../src/pipeline/internal_log.ts";
import { Metrics } from "../../../../src/pipeline/metrics.ts";
import { Pipeline } from "../../../../src/pipeline/pipeline.ts";
import { definePlugin } from "../../../../src/plugin/define_plugin.ts";
import { PluginError } from "../../../../src/plugin/plugin_error.ts";
import type { PluginContext } from "../../../../src/plugin/types.ts";
import { s } from "../../../../src/schema/schema.ts";
import {
  type RotatingFileOptions,
  RotatingFileSink,
} from "../../../../plugins/sinks/rotating_file/mod.ts";
import { WorkDir } from "../../../../plugins/sinks/rotating_file/work_dir.ts";
import {
  freezeDirectory,
  python3,
  skipWithout,
  skipWithoutFreeze,
} from "../../../helpers/peers.ts";

// A source that emits `count` records "record <n>" as fast as the sinks take them.
const counterSource = definePlugin({
  kind: "source",
  type: "test_counter",
  description: "Emits numbered records with back-pressure (tests).",
  options: s.object({
    count: s.integer({ min: 0 }),
    batch: s.integer({ min: 1 }).default(1000),
  }),
  create(options, context) {
    let done: Promise<void> | undefined;
    return {
      start() {
        done = (async () => {
          for (let i = 0; i < options.count; i += options.batch) {
            const batch: LogRecord[] = [];
            const end = Math.min(options.count, i + options.batch);
            for (let n = i; n < end; n++) {
              batch.push(createRecord({ message: `record ${n}`, logger: "gen" }));
            }
            await context.emit(batch);
          }
        })();
      },
      async [Symbol.asyncDispose]() {
        await done;
      },
    };
  },
});

async function runPipeline(dir: string, sinkOptions: Record<string, unknown>, count: number) {
  const { config, formatters } = await loadConfig({
    data_dir: `${dir}/state`,
    sources: { gen: { type: "test_counter", count } },
    sinks: { out: { type: "rotating_file", ...sinkOptions } },
  }, { plugins: [counterSource], baseDir: dir });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  await pipeline.shutdown(60_000);
  return pipeline;
}

/** The rotated files and the live file, oldest first, decompressed. */
function readRotated(dir: string, base = "app.log"): { name: string; text: string }[] {
  const files: { name: string; text: string; order: number }[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.startsWith(base)) continue;
    const m = /^app\.log(?:\.(\d+))?(\.gz)?$/.exec(entry.name);
    assert.ok(m, `unexpected file ${entry.name}`);
    const raw = Deno.readFileSync(`${dir}/${entry.name}`);
    const text = new TextDecoder().decode(m[2] ? gunzipSync(raw) : raw);
    files.push({ name: entry.name, text, order: m[1] ? -Number(m[1]) : 0 });
  }
  return files.sort((a, b) => a.order - b.order);
}

function seqOf(line: string): number {
  const record = JSON.parse(line);
  const m = /^record (\d+)$/.exec(record.message);
  assert.ok(m, `not a complete record line: ${line}`);
  return Number(m[1]);
}

Deno.test("rotating_file keeps all 500,000 records across more than 50 rotations, compressed backups included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const maxBytes = 512 * 1024;
    const pipeline = await runPipeline(dir, {
      path: "logs/app.log",
      format: "json",
      max_bytes: maxBytes,
      backups: 1000,
      compress: "gzip",
    }, 500_000);
    const rotations = pipeline.metrics.sum("rotations_total", { component: "out" });
    assert.ok(rotations >= 50, `only ${rotations} rotations`);
    assert.equal(pipeline.metrics.sum("records_dropped_total"), 0);
    const files = readRotated(`${dir}/logs`);
    assert.equal(files.length, rotations + 1);
    assert.ok(files.some((f) => f.name.endsWith(".gz")), "some backups are compressed");
    assert.ok(
      pipeline.metrics.sum("files_compressed_total", { component: "out" }) > 0,
      "compressions are counted",
    );
    assert.equal(
      pipeline.metrics.sum("files_deleted_total", { component: "out" }),
      0,
      "a plain file a .gz replaced is not a deleted backup",
    );
    let expected = 0;
    for (const file of files) {
      assert.ok(new TextEncoder().encode(file.text).length <= maxBytes, `${file.name} too big`);
      assert.ok(file.text.endsWith("\n"), `${file.name} ends with a complete line`);
      for (const line of file.text.slice(0, -1).split("\n")) {
        assert.equal(seqOf(line), expected, `${file.name} continues the sequence`);
        expected++;
      }
    }
    assert.equal(expected, 500_000, "exactly 500,000 distinct complete lines");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file keeps exactly the newest records when backups is small", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pipeline = await runPipeline(dir, {
      path: "logs/app.log",
      format: "json",
      max_bytes: "256KiB",
      backups: 5,
    }, 500_000);
    const rotations = pipeline.metrics.sum("rotations_total", { component: "out" });
    assert.ok(rotations >= 50, `only ${rotations} rotations`);
    assert.equal(pipeline.metrics.sum("files_deleted_total", { component: "out" }), rotations - 5);
    const files = readRotated(`${dir}/logs`);
    assert.deepEqual(files.map((f) => f.name), [
      "app.log.5",
      "app.log.4",
      "app.log.3",
      "app.log.2",
      "app.log.1",
      "app.log",
    ]);
    const seqs = files.flatMap((f) => f.text.slice(0, -1).split("\n").map(seqOf));
    assert.equal(seqs.at(-1), 499_999, "the newest record is kept");
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1);
    assert.ok(seqs.length > 5 * 2000, "five full backups plus the live file");
    // Deletions went through batch directories and each new live file was created ahead
    // under a hidden name: once shut down, nothing of either is left; the record of the
    // backups stays.
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/logs`)].map((e) => e.name).filter((n) => n.startsWith(".")),
      [".app.log.sluice-backups"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------
// Direct use with a controlled clock.

interface Harness {
  context: PluginContext;
  metrics: Metrics;
  warnings: string[];
  clock: { now: number };
}

function harness(dir: string): Harness {
  const metrics = new Metrics();
  const warnings: string[] = [];
  const context: PluginContext = {
    id: "out",
    baseDir: dir,
    dataDir: `${dir}/state`,
    signal: new AbortController().signal,
    log: createInternalLog(metrics, (line) => warnings.push(line)),
    createFormatter: () => (record) => record.message,
    counter: (name, help, labels) => metrics.counter(name, help, { component: "out", ...labels }),
  };
  return { context, metrics, warnings, clock: { now: 0 } };
}

function options(overrides: Partial<RotatingFileOptions>): RotatingFileOptions {
  return {
    path: "app.log",
    format: { type: "text", options: {} },
    max_bytes: 0,
    interval: 1,
    utc: false,
    backups: 7,
    compress: "none",
    fsync: false,
    ...overrides,
  };
}

function records(...messages: string[]): LogRecord[] {
  return messages.map((message) => createRecord({ message }));
}

/** The files of `dir` and their text, hidden ones (the journal of backups) left out. */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && !e.name.startsWith("."))
    .map((e) => e.name).sort();
  for (const name of names) out[name] = Deno.readTextFileSync(`${dir}/${name}`);
  return out;
}

Deno.test("rotating_file never writes past max_bytes and puts an oversized record alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = harness(dir);
    const sink = new RotatingFileSink(options({ max_bytes: 10, backups: 10 }), h.context);
    sink.writeSync(records("aaaa", "bbbb", "cccc", "a-very-long-record", "dd", "éé"));
    sink.writeSync(records("e"));
    await sink[Symbol.asyncDispose]();
    assert.deepEqual(listing(dir), {
      "app.log": "dd\néé\ne\n",
      "app.log.1": "a-very-long-record\n",
      "app.log.2": "cccc\n",
      "app.log.3": "aaaa\nbbbb\n",
    });
    assert.equal(h.metrics.sum("rotations_total"), 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file keeps a multi-line record whole and skips a record its formatter fails on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = harness(dir);
    h.context.createFormatter = () => (record) => {
      if (record.message === "bad") throw new Error("cannot format");
      return record.message;
    };
    const sink = new RotatingFileSink(options({ max_bytes: 12, backups: 10 }), h.context);
    sink.writeSync(records("one", "Error: x\n  at f", "bad", "two\nlines", "end"));
    await sink[Symbol.asyncDispose]();
    assert.deepEqual(listing(dir), {
      "app.log": "end\n",
      "app.log.1": "two\nlines\n",
      "app.log.2": "Error: x\n  at f\n",
      "app.log.3": "one\n",
    });
    assert.equal(h.metrics.sum("format_errors_total"), 1);
    assert.equal(h.warnings.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file names backups app.log.<date>.<n> when size and time rotation are combined", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = harness(dir);
    h.clock.now = Date.UTC(2026, 10, 24, 10);
    const sink = new RotatingFileSink(
      options({ max_bytes: 6, when: "MIDNIGHT", utc: true, backups: 10 }),
      h.context,
      { now: () => h.clock.now },
    );
    sink.writeSync(records("one", "two", "three"));
    h.clock.now = Date.UTC(2026, 10, 25, 0, 0, 1);
    sink.writeSync(records("four"));
    h.clock.now = Date.UTC(2026, 10, 25, 12);
    sink.writeSync(records("five"));
    await sink[Symbol.asyncDispose]();
    assert.deepEqual(listing(dir), {
      "app.log": "five\n",
      "app.log.2026-11-24.1": "one\n",
      "app.log.2026-11-24.2": "two\n",
      "app.log.2026-11-24.3": "three\n",
      "app.log.2026-11-25.1": "four\n",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Has a sink write `count` backups `app.log.1` (newest) … `app.log.<count>`, holding
 * "backup 1" … (oldest last), 20 ms apart; returns their modification times, newest first.
 */
async function writeBackups(dir: string, count: number, extra: Partial<RotatingFileOptions> = {}) {
  const sink = new RotatingFileSink(
    options({ max_bytes: 9, backups: 100, ...extra }),
    harness(dir).context,
  );
  for (let i = count; i >= 0; i--) {
    sink.writeSync(records(`backup ${i}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await sink[Symbol.asyncDispose]();
  Deno.removeSync(`${dir}/app.log`);
  return Array.from(
    { length: count },
    (_, i) => Deno.statSync(`${dir}/app.log.${i + 1}`).mtime!.getTime(),
  );
}

Deno.test("rotating_file retention deletes by count and by age, also its backups found on startup, and no other file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mtimes = await writeBackups(dir, 6);
    // What a crashed run left in its work directory: an interrupted compression's temporary
    // file, a deletion batch never emptied and a next live file made ahead.
    const crashed = new WorkDir(`${dir}/app.log`);
    Deno.writeTextFileSync(crashed.entry("compress-7"), "partial");
    Deno.mkdirSync(crashed.entry("delete-1"));
    Deno.writeTextFileSync(crashed.entry("delete-1/0"), "old backup\n");
    Deno.writeTextFileSync(crashed.entry("next-3"), "");
    crashed.abandon();
    // Other programs' files, one named like a backup.
    Deno.writeTextFileSync(`${dir}/app.log.9`, "not ours\n");
    Deno.writeTextFileSync(`${dir}/other.log.1`, "not ours\n");
    const h = harness(dir);
    const day = 86_400_000;
    // Now is such that 3..6 are older than 2.5 days; 4 backups would keep 1..4 by count.
    const now = (mtimes[1]! + mtimes[2]!) / 2 + 2.5 * day;
    const sink = new RotatingFileSink(
      options({ max_bytes: 100, backups: 4, max_age: 2.5 * day }),
      h.context,
      { now: () => now },
    );
    await sink[Symbol.asyncDispose]();
    assert.deepEqual(listing(dir), {
      "app.log": "",
      "app.log.1": "backup 1\n",
      "app.log.2": "backup 2\n",
      "app.log.9": "not ours\n",
      "other.log.1": "not ours\n",
    });
    assert.deepEqual(
      [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith(".")).map((e) => e.name),
      [".app.log.sluice-backups"],
      "the crashed run's work directory is gone",
    );
    assert.equal(h.metrics.sum("files_deleted_total"), 4);
    assert.equal(h.metrics.sum("files_skipped_total"), 1);
    assert.match(
      h.warnings.join("\n"),
      /leaves 1 entries named like its backups in .* app\.log\.9/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file knows its compressed backups across restarts, and leaves those it has no record of alone, saying how many and where once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const gz = (name: string) =>
      new TextDecoder().decode(gunzipSync(Deno.readFileSync(`${dir}/${name}`)));
    const run = async (...messages: string[]) => {
      const h = harness(dir);
      const sink = new RotatingFileSink(
        options({ max_bytes: 4, backups: 2, compress: "gzip" }),
        h.context,
      );
      sink.writeSync(records(...messages));
      await sink.settled();
      await sink[Symbol.asyncDispose]();
      return h;
    };
    await run("a1", "a2", "a3");
    const second = await run("b1", "b2", "b3");
    // The second run's retention deleted the first run's backups: its own, known by identity.
    assert.deepEqual(Object.keys(listing(dir)), ["app.log", "app.log.1.gz", "app.log.2.gz"]);
    assert.deepEqual([gz("app.log.1.gz"), gz("app.log.2.gz")], ["b2\n", "b1\n"]);
    assert.equal(second.metrics.sum("files_skipped_total"), 0);
    // A version that kept no record (or Python's handler) left these: none is known.
    Deno.removeSync(`${dir}/.app.log.sluice-backups`);
    const third = await run("c1", "c2", "c3");
    const said = third.warnings.filter((w) => w.includes("named like its backups"));
    assert.equal(said.length, 1, third.warnings.join("\n"));
    assert.ok(said[0]!.includes(`leaves 2 entries named like its backups in ${dir} alone`));
    assert.ok(said[0]!.includes("delete them when no longer needed"));
    assert.deepEqual(Object.keys(listing(dir)), [
      "app.log",
      "app.log.1.gz",
      "app.log.2.gz",
      "app.log.3.gz",
      "app.log.4.gz",
    ]);
    assert.deepEqual([gz("app.log.1.gz"), gz("app.log.2.gz")], ["b2\n", "b1\n"], "left alone");
    assert.deepEqual([gz("app.log.3.gz"), gz("app.log.4.gz")], ["c2\n", "c1\n"]);
    assert.ok(third.metrics.sum("files_skipped_total") >= 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file disposed while a compression runs leaves no hidden file behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = harness(dir);
    const sink = new RotatingFileSink(
      options({ max_bytes: 64 * 1024, backups: 5, compress: "gzip" }),
      h.context,
    );
    const line = "x".repeat(1000);
    for (let i = 0; i < 3; i++) sink.writeSync(records(...Array(100).fill(line)));
    await sink[Symbol.asyncDispose]();
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(
      names.filter((n) => n.startsWith(".")),
      [".app.log.sluice-backups"],
      names.join(", "),
    );
    assert.ok(h.metrics.sum("files_compressed_total") >= 1, "a compression ran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file frees an expired backup's space within a second of going idle", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = harness(dir);
    const sink = new RotatingFileSink(options({ max_bytes: 8, backups: 1 }), h.context);
    sink.writeSync(records("first", "second", "third", "fourth"));
    assert.equal(h.metrics.sum("files_deleted_total"), 2, "counted when retention takes them");
    const trash = () =>
      [...Deno.readDirSync(dir)].filter((e) =>
        e.isDirectory && e.name.startsWith(".app.log.sluice-")
      ).flatMap((
        work,
      ) =>
        [...Deno.readDirSync(`${dir}/${work.name}`)].filter((e) => e.name.startsWith("delete-"))
          .map((e) => `${dir}/${work.name}/${e.name}`)
      );
    const trashed = () => trash().flatMap((batch) => [...Deno.readDirSync(batch)]).length;
    assert.equal(trash().length, 1, "the two backups wait in one trash directory");
    assert.equal(trashed(), 2);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(trashed(), 0, "emptied without another write");
    assert.ok(trash().length <= 1, "at most the next batch directory, made ahead");
    await sink[Symbol.asyncDispose]();
    assert.deepEqual(Object.keys(listing(dir)), ["app.log", "app.log.1"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file compresses rotated files in the background and its leftovers on startup, not another program's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeBackups(dir, 1); // a run without compression left app.log.1
    Deno.writeTextFileSync(`${dir}/app.log.2`, "theirs\n");
    const h = harness(dir);
    const sink = new RotatingFileSink(
      options({ max_bytes: 8, backups: 5, compress: "gzip" }),
      h.context,
    );
    sink.writeSync(records("first", "second", "third"));
    await sink.settled();
    await sink[Symbol.asyncDispose]();
    const gz = (name: string) =>
      new TextDecoder().decode(gunzipSync(Deno.readFileSync(`${dir}/${name}`)));
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [
        ".app.log.sluice-backups",
        "app.log",
        "app.log.1.gz",
        "app.log.2",
        "app.log.3.gz",
        "app.log.4.gz",
      ],
    );
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "third\n");
    assert.equal(gz("app.log.1.gz"), "second\n");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.2`), "theirs\n");
    assert.equal(gz("app.log.3.gz"), "first\n");
    assert.equal(gz("app.log.4.gz"), "backup 1\n");
    assert.equal(h.metrics.sum("files_compressed_total"), 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file reopens its file when it is moved or truncated from outside, and on reopen()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = harness(dir);
    h.clock.now = 1_000_000;
    const sink = new RotatingFileSink(options({ max_bytes: 1000 }), h.context, {
      now: () => h.clock.now,
    });
    sink.writeSync(records("before move"));
    Deno.renameSync(`${dir}/app.log`, `${dir}/moved.log`); // logrotate's "create" mode
    h.clock.now += 1500;
    sink.writeSync(records("after move"));
    assert.equal(Deno.readTextFileSync(`${dir}/moved.log`), "before move\n");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "after move\n");
    Deno.truncateSync(`${dir}/app.log`, 0); // copytruncate
    h.clock.now += 1500;
    sink.writeSync(records("after truncate"));
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "after truncate\n");
    Deno.renameSync(`${dir}/app.log`, `${dir}/moved2.log`);
    sink.reopen(); // SIGHUP
    sink.writeSync(records("after reopen"));
    assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "after reopen\n");
    await sink[Symbol.asyncDispose]();
    assert.equal(h.metrics.sum("file_reopens_total"), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "rotating_file counts a rotation refused by a read-only directory, keeps every record, and recovers",
  ignore: skipWithoutFreeze(),
  async fn() {
    const dir = await Deno.makeTempDir();
    const freeze = (on: boolean) => freezeDirectory(dir, on);
    try {
      const h = harness(dir);
      h.clock.now = 1_000_000;
      const sink = new RotatingFileSink(options({ max_bytes: 10 }), h.context, {
        now: () => h.clock.now,
      });
      sink.writeSync(records("aaaa", "bbbb"));
      assert.ok(
        freeze(true),
        "the directory can be made read-only (chattr +i needs ext4 or similar)",
      );
      try {
        sink.writeSync(records("cccc")); // rotation needed, refused: EPERM or EACCES
        sink.writeSync(records("dddd")); // no retry within a second; still no loss
      } finally {
        freeze(false);
      }
      assert.equal(Deno.readTextFileSync(`${dir}/app.log`), "aaaa\nbbbb\ncccc\ndddd\n");
      assert.equal(h.metrics.sum("file_errors_total", { operation: "rotate" }), 1);
      assert.equal(h.warnings.filter((w) => w.includes("Cannot rotate")).length, 1);
      assert.match(
        h.warnings[0]!,
        /Cannot rotate the file of sink "out": .*(not permitted|permission denied)/i,
      );
      h.clock.now += 1500;
      sink.writeSync(records("eeee"));
      await sink[Symbol.asyncDispose]();
      assert.deepEqual(listing(dir), {
        "app.log": "eeee\n",
        "app.log.1": "aaaa\nbbbb\ncccc\ndddd\n",
      });
    } finally {
      freeze(false);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("rotating_file on a full disk: writes fail, are counted and retried, and nothing is lost once space returns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/logs`);
    await Deno.symlink("/dev/full", `${dir}/logs/app.log`); // every write: ENOSPC
    const { config, formatters } = await loadConfig({
      sources: { gen: { type: "test_counter", count: 1000, batch: 100 } },
      sinks: { out: { type: "rotating_file", path: "logs/app.log", max_bytes: "1MiB" } },
    }, { plugins: [counterSource], baseDir: dir });
    const pipeline = await Pipeline.create(config, { formatters });
    await pipeline.start();
    const deadline = Date.now() + 10_000;
    while (pipeline.metrics.sum("sink_retries_total", { component: "out" }) === 0) {
      assert.ok(Date.now() < deadline, "the failing write is retried");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(pipeline.health()[0]?.problem ?? "", /No space left on device/);
    await Deno.remove(`${dir}/logs/app.log`); // space is back: a regular file replaces it
    assert.ok(await pipeline.flush(20_000), "the queue drains after recovery");
    await pipeline.shutdown();
    assert.ok(pipeline.metrics.sum("component_errors_total", { component: "out" }) > 0);
    assert.equal(pipeline.metrics.sum("records_dropped_total"), 0);
    const lines = (await Deno.readTextFile(`${dir}/logs/app.log`)).split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(
      lines.map(seqOf),
      Array.from({ length: 1000 }, (_, i) => i),
      "every record exactly once, in order",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file reports a clear error when its directory cannot be created", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/logs`, "a file where the directory should be");
    const h = harness(dir);
    assert.throws(
      () => new RotatingFileSink(options({ path: "logs/app.log" }), h.context),
      (error: unknown) =>
        error instanceof PluginError &&
        /^Cannot open sink "out": cannot create directory ".*logs"/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------
// Time rotation against Python's TimedRotatingFileHandler.

const PYTHON_REFERENCE = `
import datetime, json, logging, logging.handlers, os, sys, time
spec = json.load(sys.stdin)
now = [spec["events"][0][0]]
time.time = lambda: now[0]
at = None
if spec.get("atTime"):
    h, m, *rest = [int(x) for x in spec["atTime"].split(":")]
    at = datetime.time(h, m, rest[0] if rest else 0)
path = os.path.join(spec["dir"], "app.log")
handler = logging.handlers.TimedRotatingFileHandler(
    path, when=spec["when"], interval=spec["interval"], backupCount=0,
    utc=spec["utc"], atTime=at, delay=True)
handler.setFormatter(logging.Formatter("%(message)s"))
instants = [handler.rolloverAt]
for t, msg in spec["events"]:
    now[0] = t
    handler.emit(logging.makeLogRecord({"msg": msg}))
    instants.append(handler.rolloverAt)
handler.close()
files = {n: open(os.path.join(spec["dir"], n)).read() for n in sorted(os.listdir(spec["dir"]))}
print(json.dumps({"instants": instants, "files": files}))
`;

interface Scenario {
  name: string;
  when: string;
  interval?: number;
  utc: boolean;
  atTime?: string;
  /** An IANA zone for local time (Python gets it as TZ). */
  zone?: string;
  start: number;
  /** Step range between events, seconds. */
  step: [number, number];
  events: number;
  /** Extra event times (seconds), such as exact boundaries. */
  extra?: number[];
}

function eventTimes(scenario: Scenario): number[] {
  let seed = 0x9e3779b9 ^ scenario.start;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [scenario.start];
  for (let i = 1; i < scenario.events; i++) {
    const [lo, hi] = scenario.step;
    out.push(out[i - 1]! + lo + Math.floor(random() * (hi - lo)));
  }
  return [...out, ...scenario.extra ?? []].sort((a, b) => a - b);
}

const utc = (...args: [number, number, number, number?, number?, number?]) =>
  Date.UTC(...args) / 1000;

const SCENARIOS: Scenario[] = [
  {
    name: "midnight, UTC",
    when: "midnight",
    utc: true,
    start: utc(2026, 10, 24, 15),
    step: [3600, 9 * 3600],
    events: 40,
  },
  {
    name: "midnight, UTC, starting exactly at midnight, events on the boundaries",
    when: "midnight",
    utc: true,
    start: utc(2026, 10, 24),
    step: [3600, 9 * 3600],
    events: 20,
    extra: [utc(2026, 10, 26), utc(2026, 10, 27, 23, 59, 59), utc(2026, 10, 28)],
  },
  {
    name: "midnight, local time across the start of DST",
    when: "midnight",
    utc: false,
    zone: "America/New_York",
    start: utc(2026, 2, 5, 17),
    step: [2 * 3600, 10 * 3600],
    events: 30,
  },
  {
    name: "midnight at_time 02:30, local time across the end of DST",
    when: "midnight",
    utc: false,
    atTime: "02:30",
    zone: "America/New_York",
    start: utc(2026, 9, 29, 12),
    step: [2 * 3600, 8 * 3600],
    events: 30,
  },
  {
    name: "hourly, UTC",
    when: "H",
    utc: true,
    start: utc(2026, 10, 24, 10, 17, 5),
    step: [600, 3 * 3600],
    events: 40,
  },
  {
    name: "every 2 hours, local time across the end of DST",
    when: "H",
    interval: 2,
    utc: false,
    zone: "America/New_York",
    start: utc(2026, 10, 1, 2),
    step: [600, 5400],
    events: 40,
  },
  {
    name: "W0 at_time 10:30, UTC",
    when: "W0",
    utc: true,
    atTime: "10:30",
    start: utc(2026, 10, 18, 12),
    step: [12 * 3600, 3 * 86400],
    events: 25,
    extra: [utc(2026, 10, 30, 10, 30), utc(2026, 11, 7, 10, 29, 59)],
  },
  {
    name: "W0 at_time 10:30, UTC, starting exactly at the rollover",
    when: "W0",
    utc: true,
    atTime: "10:30",
    start: utc(2026, 10, 23, 10, 30),
    step: [12 * 3600, 3 * 86400],
    events: 20,
  },
  {
    name: "W0 at_time 03:00, local time across the end of DST",
    when: "W0",
    utc: false,
    atTime: "03:00",
    zone: "America/New_York",
    start: utc(2026, 9, 14, 12),
    step: [12 * 3600, 3 * 86400],
    events: 25,
  },
  {
    name: "every 30 seconds, UTC",
    when: "S",
    interval: 30,
    utc: true,
    start: utc(2026, 10, 24, 23, 59, 1),
    step: [1, 70],
    events: 40,
  },
];

Deno.test({
  name:
    "rotating_file rotates at the instants and with the names Python's TimedRotatingFileHandler chooses",
  ignore: skipWithout(python3()),
  async fn(t) {
    for (const scenario of SCENARIOS) {
      await t.step(scenario.name, async () => {
        const times = eventTimes(scenario);
        const events = times.map((time, i) => [time, `event ${i}`] as const);
        const pyDir = await Deno.makeTempDir();
        const ourDir = await Deno.makeTempDir();
        try {
          const child = new Deno.Command("python3", {
            args: ["-c", PYTHON_REFERENCE],
            stdin: "piped",
            stdout: "piped",
            env: { TZ: scenario.zone ?? "UTC" },
          }).spawn();
          const writer = child.stdin.getWriter();
          await writer.write(new TextEncoder().encode(JSON.stringify({
            dir: pyDir,
            when: scenario.when,
            interval: scenario.interval ?? 1,
            utc: scenario.utc,
            atTime: scenario.atTime,
            events,
          })));
          await writer.close();
          const output = await child.output();
          assert.ok(output.success, "the python reference ran");
          const python = JSON.parse(new TextDecoder().decode(output.stdout)) as {
            instants: number[];
            files: Record<string, string>;
          };

          const h = harness(ourDir);
          h.clock.now = times[0]! * 1000;
          const sink = new RotatingFileSink(
            options({
              when: scenario.when,
              interval: scenario.interval ?? 1,
              utc: scenario.utc,
              backups: 1000,
              ...(scenario.atTime ? { at_time: scenario.atTime } : {}),
            }),
            h.context,
            { now: () => h.clock.now, ...(scenario.zone ? { timeZone: scenario.zone } : {}) },
          );
          const instants = [sink.nextRotation! / 1000];
          for (const [time, message] of events) {
            h.clock.now = time * 1000;
            sink.writeSync(records(message));
            instants.push(sink.nextRotation! / 1000);
          }
          await sink[Symbol.asyncDispose]();
          assert.deepEqual(instants, python.instants, "the same rollover instants");
          assert.deepEqual(listing(ourDir), python.files, "the same file names and contents");
          assert.ok(Object.keys(python.files).length >= 4, "the scenario rotates several times");
        } finally {
          await Deno.remove(pyDir, { recursive: true });
          await Deno.remove(ourDir, { recursive: true });
        }
      });
    }
  },
});

/** This process's open files under `dir` (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): string[] {
  const open: string[] = [];
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
      if (target.startsWith(dir + "/")) open.push(target);
    } catch {
      // The directory listing's own descriptor, gone once read.
    }
  }
  return open;
}

/** A sink made after a refused one rotates, records its backups and leaves nothing open. */
async function assertLaterSinkClosesAll(dir: string, h: Harness): Promise<void> {
  const sink = new RotatingFileSink(options({ max_bytes: 10, backups: 2 }), h.context);
  sink.writeSync(records("aaaa", "bbbb", "cccc", "dddd"));
  await sink[Symbol.asyncDispose]();
  assert.ok(Deno.statSync(`${dir}/.app.log.sluice-backups`).isFile, "it rotated, recorded");
  assert.deepEqual(openFilesUnder(dir), []);
}

Deno.test("rotating_file refused because another process rotates the file leaves nothing open: a later sink in this process (a reload) closes its record of backups", async () => {
  if (Deno.build.os !== "linux") return; // reads /proc/self/fd
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const workDir = new URL("../../../../plugins/sinks/rotating_file/work_dir.ts", import.meta.url);
  // Another process's run on the same file: it holds its work directory's lock until killed.
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { WorkDir } from ${JSON.stringify(workDir.href)};
new WorkDir(${JSON.stringify(`${dir}/app.log`)}).claim(); console.log("held");
setInterval(() => {}, 1000);`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    assert.equal((await reader.read()).value, "held\n");
    const h = harness(dir);
    assert.throws(
      () => new RotatingFileSink(options({ max_bytes: 10, backups: 2 }), h.context),
      (error) => error instanceof PluginError && /being rotated by another/.test(error.message),
    );
    holder.kill("SIGKILL");
    await holder.status;

    await assertLaterSinkClosesAll(dir, h);
  } finally {
    try {
      holder.kill("SIGKILL");
    } catch {
      // Killed above.
    }
    await holder.status;
    await reader.cancel();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotating_file that cannot open its live file leaves nothing open: a later sink in this process closes its record of backups", async () => {
  if (Deno.build.os !== "linux") return; // reads /proc/self/fd
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const h = harness(dir);
    Deno.mkdirSync(`${dir}/app.log`); // not a file it can open
    assert.throws(
      () => new RotatingFileSink(options({ max_bytes: 10, backups: 2 }), h.context),
      (error) => error instanceof PluginError && /cannot open/.test(error.message),
    );
    Deno.removeSync(`${dir}/app.log`);
    await assertLaterSinkClosesAll(dir, h);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { loadConfig } from "../../../../src/config/load.ts";
import { createRecord, type LogRecord } from "../../../../src/core/record.ts";
import { Pipeline } from "../../../../src/pipeline/pipeline.ts";
import { definePlugin } from "../../../../src/plugin/define_plugin.ts";
import { s } from "../../../../src/schema/schema.ts";
import { memoryRecords } from "../../../../plugins/sinks/memory.ts";
import { python3, skipWithout } from "../../../helpers/peers.ts";

const FAST = { poll_interval: "10ms", scan_interval: "50ms", rotate_wait: "200ms" };

let storeSeq = 0;

/** A tail pipeline into a memory store; returns it started. */
async function tail(dir: string, source: Record<string, unknown>, store: string, extra = {}) {
  const { config, formatters } = await loadConfig({
    data_dir: "state",
    sources: { tail: { type: "file", ...FAST, ...source } },
    sinks: { out: { type: "memory", name: store, max_records: 10_000_000 } },
    ...extra,
  }, { baseDir: dir, plugins: [gatedSink, counterSource] });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  return pipeline;
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asserts that `records` hold "line 0" … "line n-1" exactly once each. */
function assertExactlyOnce(records: readonly LogRecord[], n: number, prefix = "line "): void {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.message, (counts.get(r.message) ?? 0) + 1);
  const missing: string[] = [];
  const repeated: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = counts.get(prefix + i) ?? 0;
    if (c === 0) missing.push(prefix + i);
    if (c > 1) repeated.push(prefix + i);
  }
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines missing`);
  assert.deepEqual(
    repeated.slice(0, 10),
    [],
    `${repeated.length} lines repeated: ${repeated[0]} .. ${repeated.at(-1)}`,
  );
  assert.equal(records.length, n, "no other records");
}

/** Appends lines "line a" … "line b-1" to `path` in a few writes, yielding in between. */
async function appendLines(path: string, from: number, to: number, pieces = 4): Promise<void> {
  const step = Math.ceil((to - from) / pieces);
  for (let i = from; i < to; i += step) {
    let text = "";
    for (let n = i; n < Math.min(to, i + step); n++) text += `line ${n}\n`;
    await Deno.writeTextFile(path, text, { append: true });
    await sleep(15);
  }
}

/** Python's RotatingFileHandler rotation: app.log.k → k+1, app.log → app.log.1. */
function renameRotate(dir: string): void {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  const numbers = names.map((n) => /^app\.log\.(\d+)$/.exec(n)?.[1]).filter((n) => n)
    .map(Number).sort((a, b) => b - a);
  for (const k of numbers) Deno.renameSync(`${dir}/app.log.${k}`, `${dir}/app.log.${k + 1}`);
  Deno.renameSync(`${dir}/app.log`, `${dir}/app.log.1`);
  Deno.writeTextFileSync(`${dir}/app.log`, "");
}

/** logrotate's copytruncate: older copies shift, app.log is copied to app.log.1, then emptied. */
function copyTruncate(dir: string): void {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  const numbers = names.map((n) => /^app\.log\.(\d+)$/.exec(n)?.[1]).filter((n) => n)
    .map(Number).sort((a, b) => b - a);
  for (const k of numbers) Deno.renameSync(`${dir}/app.log.${k}`, `${dir}/app.log.${k + 1}`);
  Deno.copyFileSync(`${dir}/app.log`, `${dir}/app.log.1`);
  Deno.truncateSync(`${dir}/app.log`, 0);
}

for (
  const [kind, rotate] of [["rename-and-create", renameRotate], [
    "copytruncate",
    copyTruncate,
  ]] as const
) {
  Deno.test(`file source reads every line exactly once across 5 ${kind} rotations with a restart in the middle`, async () => {
    const dir = await Deno.makeTempDir();
    const store = `tail-${kind}-${storeSeq++}`;
    const logs = `${dir}/logs`;
    try {
      await Deno.mkdir(logs);
      const source = { include: ["logs/app.log*"] };
      let pipeline = await tail(dir, source, store);
      const records = memoryRecords(store);
      let next = 0;
      const phase = async (count: number) => {
        await appendLines(`${logs}/app.log`, next, next + count);
        next += count;
      };
      await phase(500);
      await until("the first lines", () => records.length > 0);
      rotate(logs); // 1
      await phase(500);
      rotate(logs); // 2
      await phase(300);
      await until("lines before the restart", () => records.length >= 1000);
      await pipeline.shutdown();

      // While the pipeline is down: more lines, a rotation, more lines.
      await phase(200);
      rotate(logs); // 3
      await phase(200);

      pipeline = await tail(dir, source, store);
      await phase(300);
      rotate(logs); // 4
      await phase(300);
      rotate(logs); // 5
      await phase(200);
      await until(`${next} lines`, () => records.length >= next);
      await sleep(300); // a repeat would arrive now
      await pipeline.shutdown();
      assertExactlyOnce(records, next);
      assert.equal(pipeline.metrics.sum("records_rejected_total"), 0);
    } finally {
      memoryRecords(store).length = 0;
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const PYTHON_WRITER = `
import logging, logging.handlers, sys, time
path, count = sys.argv[1], int(sys.argv[2])
handler = logging.handlers.RotatingFileHandler(path, maxBytes=20000, backupCount=1000)
handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
log = logging.getLogger("payment")
log.addHandler(handler)
log.setLevel(logging.INFO)
for i in range(count):
    (log.warning if i % 10 == 0 else log.info)("line %d", i)
    if i % 200 == 0:
        time.sleep(0.01)
handler.close()
`;

Deno.test({
  name:
    "file source follows a file written by Python's RotatingFileHandler while it rotates: every line exactly once",
  ignore: skipWithout(python3()),
  async fn() {
    const dir = await Deno.makeTempDir();
    const store = `tail-python-${storeSeq++}`;
    try {
      await Deno.mkdir(`${dir}/logs`);
      const pipeline = await tail(dir, { include: "logs/app.log*", parser: "python" }, store);
      const count = 20_000;
      const child = new Deno.Command("python3", {
        args: ["-c", PYTHON_WRITER, `${dir}/logs/app.log`, String(count)],
      }).spawn();
      assert.ok((await child.status).success, "the python writer ran");
      const rotated = [...Deno.readDirSync(`${dir}/logs`)].length - 1;
      assert.ok(rotated >= 20, `python rotated ${rotated} times`);
      const records = memoryRecords(store);
      await until(`${count} lines`, () => records.length >= count);
      await sleep(300);
      await pipeline.shutdown();
      assertExactlyOnce(records, count);
      const first = records.find((r) => r.message === "line 0")!;
      assert.equal(first.logger, "payment");
      assert.equal(first.level, 30);
      assert.equal(records.find((r) => r.message === "line 1")!.level, 20);
      assert.ok(Math.abs(first.time - Date.now()) < 600_000, "asctime parsed as local time");
      assert.equal(pipeline.metrics.sum("records_rejected_total"), 0);
    } finally {
      memoryRecords(store).length = 0;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// A source that emits `count` records "line <n>" with back-pressure.
const counterSource = definePlugin({
  kind: "source",
  type: "test_lines",
  description: "Emits numbered records (tests).",
  options: s.object({ count: s.integer({ min: 0 }), batch: s.integer({ min: 1 }).default(500) }),
  create(options, context) {
    let done: Promise<void> | undefined;
    return {
      start() {
        done = (async () => {
          for (let i = 0; i < options.count; i += options.batch) {
            const batch: LogRecord[] = [];
            for (let n = i; n < Math.min(options.count, i + options.batch); n++) {
              batch.push(createRecord({ message: `line ${n}` }));
            }
            await context.emit(batch);
            await sleep(1);
          }
        })();
      },
      async [Symbol.asyncDispose]() {
        await done;
      },
    };
  },
});

Deno.test("file source follows files rotated by the rotating_file sink while it writes: every line exactly once", async () => {
  const dir = await Deno.makeTempDir();
  const store = `tail-own-${storeSeq++}`;
  try {
    const count = 50_000;
    const { config, formatters } = await loadConfig({
      sources: { gen: { type: "test_lines", count } },
      sinks: {
        out: {
          type: "rotating_file",
          path: "logs/app.log",
          format: "json",
          max_bytes: "64KiB",
          backups: 1000,
        },
      },
    }, { baseDir: dir, plugins: [counterSource] });
    const tailer = await tail(dir, { include: "logs/app.log*", parser: "json" }, store);
    const writer = await Pipeline.create(config, { formatters });
    await writer.start();
    await writer.shutdown(); // waits for the generator, then drains
    assert.ok(writer.metrics.sum("rotations_total") >= 50);
    const records = memoryRecords(store);
    await until(`${count} lines`, () => records.length >= count);
    await sleep(300);
    await tailer.shutdown();
    assertExactlyOnce(records, count);
  } finally {
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file source picks up new matching files while running and releases deleted ones", async () => {
  const dir = await Deno.makeTempDir();
  const store = `tail-discover-${storeSeq++}`;
  try {
    await Deno.mkdir(`${dir}/logs/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/logs/a.log`, "line 0\n");
    await Deno.writeTextFile(`${dir}/logs/other.txt`, "not matched\n");
    const pipeline = await tail(dir, { include: ["logs/**/*.log"], exclude: "*.gz" }, store);
    const records = memoryRecords(store);
    await until("the first file", () => records.length === 1);
    await Deno.writeTextFile(`${dir}/logs/sub/b.log`, "line 1\nline 2\n");
    await Deno.writeTextFile(`${dir}/logs/c.log.gz`, "excluded\n");
    await until("the new file", () => records.length === 3);
    await Deno.remove(`${dir}/logs/a.log`);
    await until(
      "the deleted file to be released",
      () => pipeline.metrics.sum("files_released_total") === 1,
    );
    await Deno.writeTextFile(`${dir}/logs/sub/b.log`, "line 3\n", { append: true });
    await until("more lines", () => records.length === 4);
    await pipeline.shutdown();
    assertExactlyOnce(records, 4);
    assert.equal(records[1]!.fields.file, `${dir}/logs/sub/b.log`);
    assert.equal(pipeline.metrics.sum("files_opened_total"), 2);
  } finally {
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file source with read_from end skips what existing files hold at the first start", async () => {
  const dir = await Deno.makeTempDir();
  const store = `tail-end-${storeSeq++}`;
  try {
    await Deno.writeTextFile(`${dir}/app.log`, "old 1\nold 2\npartial");
    const pipeline = await tail(dir, { include: "app.log", read_from: "end" }, store);
    await sleep(100);
    await Deno.writeTextFile(`${dir}/app.log`, " line\nline 0\n", { append: true });
    const records = memoryRecords(store);
    await until("new lines", () => records.length === 2);
    await pipeline.shutdown();
    assert.deepEqual(records.map((r) => r.message), ["partial line", "line 0"]);
  } finally {
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file source turns unparsable lines into records with parse_error, counted, never dropped", async () => {
  const dir = await Deno.makeTempDir();
  const store = `tail-parse-${storeSeq++}`;
  try {
    await Deno.writeTextFile(
      `${dir}/app.log`,
      '{"msg":"fine","level":"error","user":"ada"}\nnot json\n[1,2]\n',
    );
    const pipeline = await tail(dir, { include: "app.log", parser: "json" }, store);
    const records = memoryRecords(store);
    await until("three records", () => records.length === 3);
    await pipeline.shutdown();
    assert.equal(records[0]!.message, "fine");
    assert.equal(records[0]!.level, 40);
    assert.equal(records[0]!.fields.user, "ada");
    assert.equal(records[1]!.message, "not json");
    assert.match(String(records[1]!.fields.parse_error), /Invalid JSON/);
    assert.equal(records[2]!.message, "[1,2]");
    assert.equal(
      pipeline.metrics.sum("records_rejected_total", { reason: "invalid_json" }),
      1,
    );
    assert.equal(
      pipeline.metrics.sum("records_rejected_total", { reason: "not_an_object" }),
      1,
    );
  } finally {
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file source cuts lines longer than max_line_bytes and counts them", async () => {
  const dir = await Deno.makeTempDir();
  const store = `tail-long-${storeSeq++}`;
  try {
    const huge = "x".repeat(3 * 1024 * 1024); // longer than the read chunk
    await Deno.writeTextFile(
      `${dir}/app.log`,
      `short\n${"é".repeat(100)}\n${huge}\nafter\n`,
    );
    const pipeline = await tail(dir, { include: "app.log", max_line_bytes: 101 }, store);
    const records = memoryRecords(store);
    await until("four records", () => records.length === 4);
    await pipeline.shutdown();
    assert.deepEqual(records.map((r) => r.message.length), [5, 50, 101, 5]);
    assert.equal(records[1]!.message, "é".repeat(50), "cut at a character boundary");
    assert.deepEqual(records.map((r) => r.fields.truncated === true), [false, true, true, false]);
    assert.equal(pipeline.metrics.sum("lines_truncated_total"), 2);
  } finally {
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file source joins a Python traceback to its record with multiline and the python parser", async () => {
  const dir = await Deno.makeTempDir();
  const store = `tail-multi-${storeSeq++}`;
  try {
    const text = [
      "2026-11-24 10:00:00,001 - app - INFO - started",
      "2026-11-24 10:00:01,002 - app.db - ERROR - query failed",
      "Traceback (most recent call last):",
      '  File "app.py", line 3, in <module>',
      "ValueError: bad input",
      "2026-11-24 10:00:02,003 - app - INFO - still running",
      "",
    ].join("\n");
    await Deno.writeTextFile(`${dir}/app.log`, text);
    const pipeline = await tail(dir, {
      include: "app.log",
      parser: "python",
      multiline: { start: "^\\d{4}-\\d{2}-\\d{2}", timeout: "100ms" },
    }, store);
    const records = memoryRecords(store);
    await until("three records", () => records.length === 3);
    await pipeline.shutdown();
    assert.deepEqual(records.map((r) => r.message), ["started", "query failed", "still running"]);
    assert.equal(records[1]!.logger, "app.db");
    assert.equal(records[1]!.error?.name, "ValueError");
    assert.equal(records[1]!.error?.message, "bad input");
    assert.match(records[1]!.error?.stack ?? "", /^Traceback[\s\S]*File "app.py"/);
  } finally {
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file source resumes a pending multiline record after a restart without splitting it", async () => {
  const dir = await Deno.makeTempDir();
  const store = `tail-multi-restart-${storeSeq++}`;
  try {
    await Deno.writeTextFile(`${dir}/app.log`, "START one\n  more\nSTART two\n  part a\n");
    const source = {
      include: "app.log",
      multiline: { start: "^START", timeout: "60s" },
    };
    let pipeline = await tail(dir, source, store);
    const records = memoryRecords(store);
    await until("the first record", () => records.length === 1);
    await pipeline.shutdown();
    await Deno.writeTextFile(`${dir}/app.log`, "  part b\nSTART three\n", { append: true });
    pipeline = await tail(dir, source, store);
    await until("the second record", () => records.length === 2);
    await pipeline.shutdown();
    assert.deepEqual(records.map((r) => r.message), [
      "START one\n  more",
      "START two\n  part a\n  part b",
    ]);
  } finally {
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

// A sink whose writes wait for a gate: a slow destination.
const gates = new Map<string, { open: boolean; got: number }>();
const gatedSink = definePlugin({
  kind: "sink",
  type: "test_gated",
  description: "Writes only while its gate is open (tests).",
  options: s.object({ gate: s.string() }),
  create(options) {
    const gate = gates.get(options.gate)!;
    return {
      async write(records) {
        while (!gate.open) await sleep(5);
        gate.got += records.length;
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  },
});

Deno.test("file source stops reading while its sink is full, then delivers everything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const count = 400_000;
    let text = "";
    for (let i = 0; i < count; i++) text += `line ${i}\n`;
    await Deno.writeTextFile(`${dir}/app.log`, text);
    const gate = { open: false, got: 0 };
    gates.set("bp", gate);
    const { config, formatters } = await loadConfig({
      data_dir: "state",
      sources: { tail: { type: "file", include: "app.log", ...FAST } },
      sinks: { out: { type: "test_gated", gate: "bp", buffer: { max_records: 1000 } } },
    }, { baseDir: dir, plugins: [gatedSink] });
    const pipeline = await Pipeline.create(config, { formatters });
    await pipeline.start();
    await sleep(500);
    const read = pipeline.metrics.sum("records_in_total", { component: "tail" });
    // One 1 MiB chunk (~90,000 short lines) may be routed before the source waits.
    assert.ok(read > 0 && read < 200_000, `read ${read} lines while the sink was blocked`);
    gate.open = true;
    await until("every line", () => gate.got === count, 30_000);
    await pipeline.shutdown();
    assert.equal(pipeline.metrics.sum("records_dropped_total"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

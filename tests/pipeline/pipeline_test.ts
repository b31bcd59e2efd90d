import assert from "node:assert/strict";
import failingSink from "../helpers/failing_sink.ts";
import {
  configure,
  createRecord,
  definePlugin,
  getLogger,
  loadConfig,
  type LogRecord,
  memoryRecords,
  Pipeline,
  s,
  shutdown,
} from "../../mod.ts";

Deno.test("a processor that returns something other than a record is counted as failing; the log call does not throw", async () => {
  // A message taken from a field that turns out to be missing: `message` is undefined at run time.
  const fromField = definePlugin({
    kind: "processor",
    type: "test_message_from_field",
    description: "Sets the message from a field (tests).",
    options: s.object({}),
    create: () => (record: LogRecord) => ({ ...record, message: record.fields.text as string }),
  });
  const name = `mem-${crypto.randomUUID()}`;
  const pipeline = await configure({
    sources: { app: { type: "logger" } },
    processors: { copy: { type: "test_message_from_field", inputs: ["app"] } },
    sinks: { [name]: { type: "memory", inputs: ["copy"] } },
  }, { plugins: [fromField] });
  try {
    const log = getLogger("proc");
    log.info("kept", { text: "from the field" });
    log.info("lost"); // no `text` field
    await pipeline.flush();
    assert.deepEqual(memoryRecords(name).map((r) => r.message), ["from the field"]);
    assert.equal(
      pipeline.metrics.sum("records_dropped_total", {
        component: "copy",
        reason: "processor_error",
      }),
      1,
    );
    assert.equal(pipeline.metrics.sum("component_errors_total", { component: "copy" }), 1);
  } finally {
    await shutdown();
  }
});

Deno.test("a source that fails to create is reported once, without warnings about closing sources never created", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mod = new URL("../../mod.ts", import.meta.url).href;
    const script = `${dir}/script.ts`;
    await Deno.writeTextFile(
      script,
      `import { definePlugin, loadConfig, Pipeline, s } from "${mod}";
       const bad = definePlugin({
         kind: "source", type: "bad", description: "Fails to create.", options: s.object({}),
         create() { throw new Error("cannot bind"); },
       });
       const { config, formatters } = await loadConfig({
         sources: { a: { type: "bad" }, b: { type: "bad" } },
         sinks: { m: { type: "memory" } },
       }, { plugins: [bad] });
       await Pipeline.create(config, { formatters }).then(
         () => console.log("created"),
         (error) => console.log(error.message),
       );`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", new URL("../../deno.json", import.meta.url).pathname, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(stdout.trim(), 'Cannot create source "a": cannot bind');
    assert.doesNotMatch(stderr, /Cannot close source/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two sinks sharing one fallback: flush() and shutdown() drain the fallback after both", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pipeline = await configure({
      sources: { app: { type: "logger" } },
      sinks: {
        first: { type: "failing", fallback: "spill", fallback_after: "0s" },
        second: { type: "failing", fallback: "spill", fallback_after: "0s" },
        spill: { type: "file", path: `${dir}/spill.log`, format: "logfmt" },
      },
    }, { plugins: [failingSink] });
    const log = getLogger("shared");
    log.info("one");
    assert.equal(await pipeline.flush(), true);
    const lines = () => Deno.readTextFileSync(`${dir}/spill.log`).trim().split("\n").length;
    assert.equal(lines(), 2, "both primaries' copies are on disk when flush() resolves");
    log.info("two");
    await shutdown();
    assert.equal(lines(), 4, "both primaries' copies are on disk after shutdown()");
    assert.equal(pipeline.metrics.sum("records_dropped_total"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shutdown() ends while a source waits for space in a sink that keeps failing", async () => {
  // Like the tcp source: the source's dispose waits for its loop, which waits in emit().
  const looping = definePlugin({
    kind: "source",
    type: "test_looping",
    description: "Emits batches until stopped (tests).",
    options: s.object({}),
    create(_options, context) {
      let loop: Promise<void> | undefined;
      return {
        start() {
          loop = (async () => {
            let i = 0;
            while (!context.signal.aborted) {
              await context.emit([createRecord({ message: `r${i++}` })]);
            }
          })();
        },
        async [Symbol.asyncDispose]() {
          await loop;
        },
      };
    },
  });
  const { config, formatters } = await loadConfig({
    sources: { gen: { type: "test_looping" } },
    sinks: { down: { type: "failing", buffer: { max_records: 10 } } },
  }, { plugins: [looping, failingSink] });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  while (!pipeline.sinks.get("down")!.saturated) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 300)); // a few failed attempts
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    pipeline.shutdown(200).then(() => true),
    new Promise<false>((r) => timer = setTimeout(() => r(false), 10_000)),
  ]);
  clearTimeout(timer);
  assert.equal(stopped, true, "shutdown() returned");
  const m = pipeline.metrics;
  assert.equal(
    m.sum("records_in_total", { component: "down" }),
    m.sum("records_dropped_total", { component: "down", reason: "shutdown_timeout" }),
  );
});

Deno.test("twenty connections of one source waiting for a full sink overshoot its bound by one batch, not twenty", async () => {
  const connections = 20;
  const batches = 20;
  const perBatch = 50;
  let most = 0;
  const fanout = definePlugin({
    kind: "source",
    type: "test_fanout",
    description: "Emits from many concurrent loops, like connections (tests).",
    options: s.object({}),
    create(_options, context) {
      let loops: Promise<void>[] = [];
      return {
        start() {
          loops = Array.from({ length: connections }, async (_, c) => {
            for (let b = 0; b < batches; b++) {
              await context.emit(
                Array.from(
                  { length: perBatch },
                  (_, i) => createRecord({ message: `${c}:${b * perBatch + i}` }),
                ),
              );
            }
          });
        },
        async [Symbol.asyncDispose]() {
          await Promise.all(loops);
        },
      };
    },
  });
  const received: LogRecord[] = [];
  const slow = definePlugin({
    kind: "sink",
    type: "test_slow",
    description: "Takes 5 ms per batch (tests).",
    options: s.object({}),
    create: () => ({
      async write(batch: readonly LogRecord[]) {
        await new Promise((r) => setTimeout(r, 5));
        received.push(...batch);
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    }),
  });
  const { config, formatters } = await loadConfig({
    sources: { many: { type: "test_fanout" } },
    sinks: { out: { type: "test_slow", buffer: { max_records: 100 } } },
  }, { plugins: [fanout, slow] });
  const pipeline = await Pipeline.create(config, { formatters });
  const out = pipeline.sinks.get("out")!;
  const sampler = setInterval(() => most = Math.max(most, out.depth), 0);
  try {
    await pipeline.start();
    const total = connections * batches * perBatch;
    while (received.length < total) {
      most = Math.max(most, out.depth);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(most <= 100 + perBatch, `${most} records queued with max_records 100`);
    for (let c = 0; c < connections; c++) {
      const seq = received.filter((r) => r.message.startsWith(`${c}:`)).map((r) =>
        Number(r.message.split(":")[1])
      );
      assert.deepEqual(seq, [...Array(batches * perBatch).keys()], `connection ${c} in order`);
    }
    assert.equal(pipeline.metrics.sum("records_dropped_total"), 0);
  } finally {
    clearInterval(sampler);
    await pipeline.shutdown(2000);
  }
});

Deno.test("a source that emits values that are not records has them counted as rejected; its other records and other emits go through", async () => {
  let done!: Promise<void>;
  const buggy = definePlugin({
    kind: "source",
    type: "test_buggy",
    description: "Emits a null among records (tests).",
    options: s.object({}),
    create: (_options, context) => ({
      start() {
        done = (async () => {
          await context.emit([
            createRecord({ message: "first" }),
            null as unknown as LogRecord,
            { message: 7 } as unknown as LogRecord,
          ]);
          await context.emit([createRecord({ message: "second" })]);
        })();
      },
      [Symbol.asyncDispose]: () => done,
    }),
  });
  const name = `mem-${crypto.randomUUID()}`;
  const { config, formatters } = await loadConfig({
    sources: { bug: { type: "test_buggy" } },
    sinks: { [name]: { type: "memory" } },
  }, { plugins: [buggy] });
  const pipeline = await Pipeline.create(config, { formatters });
  try {
    await pipeline.start();
    await done;
    assert.ok(await pipeline.flush());
    assert.deepEqual(memoryRecords(name).map((r) => r.message), ["first", "second"]);
    const m = pipeline.metrics;
    assert.equal(
      m.sum("records_rejected_total", { component: "bug", reason: "invalid_record" }),
      2,
    );
    assert.equal(m.sum("records_in_total", { component: "bug" }), 2);
  } finally {
    await pipeline.shutdown(1000);
  }
});

Deno.test("a record the formatter throws on is a drop by reason format_error, never a delivery", async () => {
  const picky = definePlugin({
    kind: "formatter",
    type: "test_picky",
    description: "Throws on the message 'bad' (tests).",
    options: s.object({}),
    create: () => (record: LogRecord) => {
      if (record.message === "bad") throw new RangeError("Invalid time value");
      return record.message;
    },
  });
  const dir = await Deno.makeTempDir();
  try {
    const { config, formatters } = await loadConfig({
      sources: { app: { type: "logger" } },
      sinks: {
        file: { type: "file", path: `${dir}/file.log`, format: "test_picky" },
        rotating: { type: "rotating_file", path: `${dir}/rot.log`, format: "test_picky" },
        sqlite: { type: "sqlite", path: `${dir}/logs.db` },
      },
    }, { plugins: [picky] });
    const pipeline = await Pipeline.create(config, { formatters });
    await pipeline.start();
    const now = Date.now();
    for (const message of ["good", "bad", "also good"]) {
      for (const id of ["file", "rotating"]) {
        (pipeline.sinks.get(id) as unknown as { push(r: LogRecord, l: boolean): void })
          .push(createRecord({ time: now, message }), false);
      }
    }
    // sqlite refuses a time that is not a number the same way.
    const sqlite = pipeline.sinks.get("sqlite") as unknown as {
      push(r: LogRecord, l: boolean): void;
    };
    sqlite.push(createRecord({ time: now, message: "good" }), false);
    sqlite.push(createRecord({ time: NaN, message: "bad" }), false);
    assert.ok(await pipeline.flush());
    await pipeline.shutdown();
    for (const id of ["file", "rotating", "sqlite"]) {
      const sum = (name: string, labels: Record<string, string> = {}) =>
        pipeline.metrics.sum(name, { component: id, ...labels });
      assert.equal(sum("format_errors_total"), 1, id);
      assert.equal(sum("records_dropped_total", { reason: "format_error" }), 1, id);
      assert.equal(sum("records_out_total"), sum("records_in_total") - 1, id);
    }
    assert.equal(await Deno.readTextFile(`${dir}/file.log`), "good\nalso good\n");
    assert.equal(await Deno.readTextFile(`${dir}/rot.log`), "good\nalso good\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { createRecord, type LogRecord, type Sink } from "../../mod.ts";
import { createInternalLog } from "../../src/pipeline/internal_log.ts";
import { Metrics } from "../../src/pipeline/metrics.ts";
import { SinkNode } from "../../src/pipeline/sink_node.ts";
import { estimateRecordBytes } from "../../src/pipeline/record_bytes.ts";
import { JsonBlockReader } from "../../src/parse/json_block_reader.ts";
import { DeliveryError } from "../../src/plugin/delivery_error.ts";
import type { WhenFull } from "../../src/config/types.ts";

function node(
  sink: Sink,
  options: {
    maxRecords?: number;
    maxBytes?: number;
    whenFull?: WhenFull;
    fallbackAfter?: number;
    level?: number;
  } = {},
) {
  const metrics = new Metrics();
  const lines: string[] = [];
  const log = createInternalLog(metrics, (line) => lines.push(line));
  const n = new SinkNode(sink, {
    id: "out",
    level: options.level ?? 0,
    buffer: {
      max_records: options.maxRecords ?? 10,
      max_bytes: options.maxBytes ?? 1 << 30,
      when_full: options.whenFull ?? "block",
    },
    fallbackAfter: options.fallbackAfter ?? 30_000,
    metrics,
    log,
  });
  return { node: n, metrics, lines };
}

function asyncSink(
  received: LogRecord[],
  behaviour: (batch: readonly LogRecord[]) => Promise<void> | void = () => {},
): Sink {
  return {
    async write(batch) {
      await behaviour(batch);
      received.push(...batch);
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

const rec = (i: number, level = 20) => createRecord({ message: String(i), level });

Deno.test("sink_node with a sync sink blocks (writes in the caller) instead of dropping when full", async () => {
  const received: LogRecord[] = [];
  const sink: Sink = {
    write: (b) => void received.push(...b),
    writeSync: (b) => void received.push(...b),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  const { node: n, metrics } = node(sink, { maxRecords: 10 });
  for (let i = 0; i < 1000; i++) n.push(rec(i), true);
  assert.ok(received.length >= 990, "full queues were written synchronously by the caller");
  await n.close(Date.now() + 1000);
  assert.deepEqual(received.map((r) => Number(r.message)), [...Array(1000).keys()]);
  assert.equal(metrics.sum("records_dropped_total"), 0);
  assert.equal(metrics.sum("records_out_total"), 1000);
});

Deno.test("sink_node drop_newest and drop_oldest count every drop by reason", async () => {
  for (const whenFull of ["drop_newest", "drop_oldest"] as const) {
    const received: LogRecord[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const { node: n, metrics } = node(asyncSink(received, () => gate), { maxRecords: 6, whenFull });
    // The first three records leave as a batch at half-full; that write then hangs while 12 more arrive.
    for (let i = 0; i < 15; i++) n.push(rec(i), true);
    release();
    await n.close(Date.now() + 1000);
    const kept = received.map((r) => Number(r.message));
    assert.deepEqual(
      kept,
      whenFull === "drop_newest" ? [0, 1, 2, 3, 4, 5, 6, 7, 8] : [0, 1, 2, 9, 10, 11, 12, 13, 14],
    );
    assert.equal(metrics.sum("records_dropped_total", { reason: "queue_full" }), 6);
  }
});

Deno.test("drop_oldest with records of different sizes drops only the oldest and keeps queuedBytes exact", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const received: LogRecord[] = [];
  const { node: n, metrics } = node(asyncSink(received, () => gate), {
    maxRecords: 3,
    whenFull: "drop_oldest",
  });
  // Sizes that differ at every step: subtracting the newest record's charge (pop for shift)
  // or re-estimating anything else leaves a different sum.
  const sizes = [0, 5_000, 10, 700, 90_000, 3, 40_000, 1];
  const records = sizes.map((size, i) =>
    createRecord({ message: String(i), fields: { body: "x".repeat(size) } })
  );
  // Record 0 leaves at once (a half-full queue is written at once) and its write hangs.
  n.push(records[0]!, true);
  const queued: LogRecord[] = [];
  for (let i = 1; i < records.length; i++) {
    n.push(records[i]!, true);
    queued.push(records[i]!);
    if (queued.length > 3) queued.shift();
    const expected = queued.reduce((sum, r) => sum + estimateRecordBytes(r), 0);
    assert.equal(n.queuedBytes, expected, `after record ${i}`);
    assert.equal(n.depth, queued.length);
  }
  assert.equal(metrics.sum("records_dropped_total", { reason: "queue_full" }), 4);
  release();
  await n.close(Date.now() + 5000);
  assert.deepEqual(received.map((r) => Number(r.message)), [0, 5, 6, 7]);
  assert.equal(n.queuedBytes, 0);
});

Deno.test("sink_node's max_bytes counts string fields: 100 KiB fields fill a 1 MiB queue after about ten records", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const received: LogRecord[] = [];
  const { node: n, metrics } = node(asyncSink(received, () => gate), {
    maxRecords: 10_000,
    maxBytes: 1024 * 1024,
    whenFull: "drop_newest",
  });
  const body = "x".repeat(100 * 1024);
  for (let i = 0; i < 1000; i++) {
    n.push(createRecord({ message: String(i), fields: { body } }), true);
  }
  // One batch is out at the sink (the first record, written at once), the queue holds the rest.
  const queued = 1000 - metrics.sum("records_dropped_total");
  assert.ok(queued >= 10 && queued <= 13, `${queued} records queued or in flight`);
  release();
  await n.close(Date.now() + 5000);
  assert.equal(received.length, queued);
  assert.equal(metrics.sum("records_dropped_total") + received.length, 1000);
});

Deno.test("sink_node's byte count returns to zero after drop_oldest even when a caller changed a queued record's fields", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const received: LogRecord[] = [];
  const { node: n, metrics } = node(asyncSink(received, () => gate), {
    maxRecords: 10_000,
    maxBytes: 1_000_000,
    whenFull: "drop_oldest",
  });
  const fieldsOf: Record<string, unknown>[] = [];
  for (let i = 0; i < 12; i++) {
    const fields: Record<string, unknown> = { body: "x".repeat(100_000) };
    fieldsOf.push(fields);
    n.push(createRecord({ message: String(i), fields }), true);
    // The caller reuses its object: the queued record now looks small.
    if (i % 2 === 0) fields.body = "";
  }
  assert.ok(n.queuedBytes <= 1_100_000, `${n.queuedBytes} bytes counted`);
  assert.ok(n.queuedBytes >= 0);
  release();
  await n.close(Date.now() + 5000);
  assert.equal(n.queuedBytes, 0);
  assert.equal(received.length + metrics.sum("records_dropped_total"), 12);
});

Deno.test("sink_node's byte estimate survives a record whose error is not the expected shape", () => {
  const received: LogRecord[] = [];
  const { node: n } = node(asyncSink(received), { maxBytes: 1_000_000 });
  const record = createRecord({ message: "odd" });
  (record as unknown as { error: unknown }).error = "a string, not an object";
  assert.doesNotThrow(() => n.push(record, true));
  (record as unknown as { error: unknown }).error = { message: 42, stack: null };
  assert.doesNotThrow(() => n.push(record, true));
});

Deno.test("sink_node applies its level before queueing", async () => {
  const received: LogRecord[] = [];
  const { node: n, metrics } = node(asyncSink(received), { level: 30 });
  n.push(rec(1, 20), true);
  n.push(rec(2, 40), true);
  await n.close(Date.now() + 1000);
  assert.deepEqual(received.map((r) => r.message), ["2"]);
  assert.equal(metrics.sum("records_in_total"), 1);
});

Deno.test("sink_node retries a failing sink and delivers every record once it recovers", async () => {
  const received: LogRecord[] = [];
  let failures = 3;
  const { node: n, metrics, lines } = node(
    asyncSink(received, () => {
      if (failures-- > 0) throw new Error("connection refused");
    }),
    { maxRecords: 100 },
  );
  for (let i = 0; i < 50; i++) n.push(rec(i), false);
  assert.ok(await n.flush(Date.now() + 5000));
  assert.deepEqual(received.map((r) => Number(r.message)), [...Array(50).keys()]);
  assert.equal(metrics.sum("component_errors_total"), 3);
  assert.equal(metrics.sum("sink_retries_total"), 3);
  assert.equal(lines.filter((l) => l.includes("Cannot write")).length, 1, "reported once");
  assert.ok(lines.some((l) => l.includes("recovered")));
  await n.close(Date.now() + 1000);
});

Deno.test("sink_node sends rejected batches to the fallback with the count", async () => {
  const primary: LogRecord[] = [];
  const backup: LogRecord[] = [];
  const { node: n, metrics } = node(
    asyncSink(primary, () => {
      throw new DeliveryError("HTTP 400", "http_400");
    }),
  );
  const fallback = new SinkNode(asyncSink(backup), {
    id: "backup",
    level: 0,
    buffer: { max_records: 100, max_bytes: 1 << 30, when_full: "block" },
    fallbackAfter: 30_000,
    metrics,
    log: createInternalLog(metrics, () => {}),
  });
  n.fallback = fallback;
  for (let i = 0; i < 5; i++) n.push(rec(i), false);
  await n.flush(Date.now() + 1000);
  await fallback.flush(Date.now() + 1000);
  assert.equal(primary.length, 0);
  assert.deepEqual(backup.map((r) => r.message), ["0", "1", "2", "3", "4"]);
  assert.equal(metrics.sum("records_to_fallback_total"), 5);
  await n.close(Date.now() + 100);
  await fallback.close(Date.now() + 100);
});

Deno.test("sink_node counts what a shutdown deadline leaves undelivered", async () => {
  const { node: n, metrics } = node(asyncSink([], () => {
    throw new Error("down");
  }));
  for (let i = 0; i < 7; i++) n.push(rec(i), false);
  await n.close(Date.now() + 300);
  assert.equal(metrics.sum("records_dropped_total", { reason: "shutdown_timeout" }), 7);
});

Deno.test("sources wait for space: waitForSpace resolves once the queue drains", async () => {
  const received: LogRecord[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const { node: n } = node(asyncSink(received, () => gate), { maxRecords: 3 });
  for (let i = 0; i < 5; i++) n.push(rec(i), false);
  assert.equal(n.saturated, true, "sources may overshoot by a batch but then wait");
  let waited = false;
  const wait = n.waitForSpace().then(() => waited = true);
  await new Promise((r) => setTimeout(r, 20));
  release();
  await wait;
  assert.ok(waited);
  await n.close(Date.now() + 1000);
  assert.equal(received.length, 5);
});

Deno.test("sink_node counts the delivered part of a partly refused batch and forwards only the rest", async () => {
  const backup: LogRecord[] = [];
  const { node: n, metrics } = node(asyncSink([], (batch) => {
    throw new DeliveryError("2 of 5 refused", "http_400", false, {
      records: [batch[1]!, batch[3]!],
    });
  }));
  const fallback = new SinkNode(asyncSink(backup), {
    id: "backup",
    level: 0,
    buffer: { max_records: 100, max_bytes: 1 << 30, when_full: "block" },
    fallbackAfter: 30_000,
    metrics,
    log: createInternalLog(metrics, () => {}),
  });
  n.fallback = fallback;
  for (let i = 0; i < 5; i++) n.push(rec(i), false);
  await n.flush(Date.now() + 1000);
  await fallback.flush(Date.now() + 1000);
  assert.deepEqual(backup.map((r) => r.message), ["1", "3"]);
  assert.equal(metrics.sum("records_out_total", { component: "out" }), 3);
  await n.close(Date.now() + 100);
  await fallback.close(Date.now() + 100);
});

Deno.test("an async sink's max_wait gathers records, but a half-full queue is written at once", async () => {
  const batches: number[] = [];
  const sink: Sink = {
    maxWait: 60_000,
    write: (batch) => void batches.push(batch.length),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  const { node: n, metrics } = node(sink, { maxRecords: 10, whenFull: "drop_newest" });
  for (let i = 0; i < 3; i++) n.push(rec(i), true);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(batches, [], "three records wait for max_wait");
  for (let i = 3; i < 40; i++) {
    n.push(rec(i), true);
    await Promise.resolve();
  }
  await n.close(Date.now() + 1000);
  assert.equal(batches.reduce((a, b) => a + b, 0), 40);
  assert.equal(metrics.sum("records_dropped_total"), 0);
});

/** An async sink whose writes wait until the test settles them (or succeed at once when `open`). */
function heldSink() {
  const calls: { batch: LogRecord[]; settle(error?: Error): void }[] = [];
  const received: LogRecord[] = [];
  const state = { open: false };
  const sink: Sink = {
    write(batch) {
      if (state.open) {
        received.push(...batch);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        calls.push({
          batch: [...batch],
          settle: (error) => {
            if (error) return reject(error);
            received.push(...batch);
            resolve();
          },
        });
      });
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return { sink, calls, received, state };
}

async function callNumber(calls: unknown[], n: number) {
  while (calls.length < n) await new Promise((r) => setTimeout(r, 5));
}

Deno.test("a failing async sink's queue stays bounded across retries while log calls go on", async () => {
  const { sink, calls, state } = heldSink();
  const { node: n, metrics } = node(sink, { maxRecords: 10, whenFull: "drop_newest" });
  let i = 0;
  for (let cycle = 1; cycle <= 3; cycle++) {
    if (cycle === 1) n.push(rec(i++), true);
    for (let k = 0; cycle === 1 && k < 4; k++) n.push(rec(i++), true);
    await callNumber(calls, cycle);
    // While the write is out, the queue fills up again.
    for (let k = 0; k < 20; k++) n.push(rec(i++), true);
    calls[cycle - 1]!.settle(new Error("connection refused"));
    await new Promise((r) => setTimeout(r, 0));
    assert.ok(n.depth <= 20, `cycle ${cycle}: ${n.depth} records held with max_records 10`);
  }
  state.open = true;
  assert.ok(await n.flush(Date.now() + 5000));
  await n.close(Date.now() + 1000);
  assert.equal(
    metrics.sum("records_in_total"),
    metrics.sum("records_out_total") + metrics.sum("records_dropped_total"),
    "every record is delivered or counted as dropped",
  );
});

Deno.test("a source waiting on a failing async sink holds at most two bounds and loses nothing", async () => {
  const { sink, calls, received, state } = heldSink();
  const { node: n, metrics } = node(sink, { maxRecords: 10 });
  let sent = 0;
  let most = 0;
  const source = (async () => {
    while (sent < 200) {
      n.push(rec(sent++), false);
      most = Math.max(most, n.depth);
      if (n.saturated) await n.waitForSpace();
    }
  })();
  for (let cycle = 1; cycle <= 3; cycle++) {
    await callNumber(calls, cycle);
    await new Promise((r) => setTimeout(r, 10)); // the source fills the queue meanwhile
    calls[cycle - 1]!.settle(new Error("connection refused"));
    await new Promise((r) => setTimeout(r, 0));
    most = Math.max(most, n.depth);
  }
  assert.ok(most <= 20, `${most} records held with max_records 10`);
  state.open = true;
  for (const call of calls.slice(3)) call.settle();
  await source;
  assert.ok(await n.flush(Date.now() + 5000));
  await n.close(Date.now() + 1000);
  assert.deepEqual(received.map((r) => Number(r.message)), [...Array(200).keys()]);
  assert.equal(metrics.sum("records_dropped_total"), 0);
});

Deno.test("a write still out when shutdown's deadline passes is counted as dropped if it then fails", async () => {
  const { sink, calls } = heldSink();
  const { node: n, metrics } = node(sink, { maxRecords: 10 });
  for (let i = 0; i < 4; i++) n.push(rec(i), false);
  await n.close(Date.now() + 50);
  await callNumber(calls, 1);
  calls[0]!.settle(new Error("closed while sending"));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(metrics.sum("records_in_total"), 4);
  assert.equal(metrics.sum("records_dropped_total", { reason: "shutdown_timeout" }), 4);
});

Deno.test("a failing fallback keeps its own bound: hand-offs beyond it are dropped and counted", async () => {
  const failing = (): Sink => ({
    write() {
      throw new Error("down");
    },
    writeSync() {
      throw new Error("down");
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  });
  const { node: n, metrics } = node(failing(), {
    maxRecords: 10,
    whenFull: "drop_newest",
    fallbackAfter: 0,
  });
  const fallback = new SinkNode(failing(), {
    id: "backup",
    level: 0,
    buffer: { max_records: 10, max_bytes: 1 << 30, when_full: "drop_newest" },
    fallbackAfter: 30_000,
    metrics,
    log: createInternalLog(metrics, () => {}),
  });
  n.fallback = fallback;
  n.push(rec(0), true);
  await new Promise((r) => setTimeout(r, 20)); // the first write fails: the primary is failing
  for (let i = 1; i < 1000; i++) n.push(rec(i), true);
  assert.ok(
    fallback.depth <= 20,
    `the fallback holds ${fallback.depth} records with max_records 10`,
  );
  await n.close(Date.now() + 50);
  await fallback.close(Date.now() + 50);
  const into = (id: string) => metrics.sum("records_in_total", { component: id });
  const gone = (id: string) => metrics.sum("records_dropped_total", { component: id });
  assert.equal(into("out"), 1000);
  assert.equal(into("out"), gone("out") + metrics.sum("records_to_fallback_total"));
  assert.equal(into("backup"), gone("backup"));
});

Deno.test("flush() waits the retry backoff between attempts at a failing async sink", async () => {
  let attempts = 0;
  const { node: n, metrics } = node(asyncSink([], () => {
    attempts++;
    throw new Error("connection refused");
  }));
  for (let i = 0; i < 3; i++) n.push(rec(i), false);
  assert.equal(await n.flush(Date.now() + 500), false);
  // Backoff doubles from 100 ms: a handful of attempts fit in 500 ms, not thousands.
  assert.ok(attempts <= 10, `${attempts} attempts in one flush`);
  assert.equal(metrics.sum("sink_retries_total"), attempts);
  await n.close(Date.now());
});

Deno.test("a flush() whose deadline has already passed leaves queued records to their timer", async () => {
  // Pipeline.flush() shares one deadline: a failing sink before this one can use all of it.
  const received: LogRecord[] = [];
  const sink: Sink = { ...asyncSink(received), maxWait: 30 };
  const { node: n } = node(sink);
  n.push(rec(1), true);
  assert.equal(await n.flush(Date.now() - 1), false);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(received.length, 1, "written when max_wait ran out, without another record");
  await n.close(Date.now() + 1000);
});

Deno.test("drop_oldest keeps max_bytes when each record holds a different read's text", () => {
  // A stalled sink fed one record of each 64 KiB read (a level filter's, or a fallback's):
  // each holds its read's text, so dropping one record per record taken freed nothing and
  // the queue grew to max_records x 64 KiB (33.5 MiB queued for a 1 MiB max_bytes).
  const stalled: Sink = {
    write: () => new Promise<void>(() => {}),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  const { node: n, metrics } = node(stalled, {
    maxRecords: 100,
    maxBytes: 1 << 20,
    whenFull: "drop_oldest",
  });
  const reader = new JsonBlockReader({ maxLineBytes: 1 << 20, tooLarge: "frame_too_large" });
  const filler = '{"level":"info","message":"routine","n":1}';
  // First records of one read (a failed batch handed over): dropping one of them frees no text.
  const first: LogRecord[] = [];
  const run = Array.from({ length: 99 }, () => filler).join("\n");
  assert.ok(reader.read(new TextEncoder().encode(run), run, 0, first, () => {}));
  for (const record of first) n.push(record, true);
  for (let i = 0; i < 500; i++) {
    const lines = [`{"level":"warn","message":"disk nearly full","i":${i}}`];
    while (lines.length < 1500) lines.push(filler);
    const text = lines.join("\n");
    const out: LogRecord[] = [];
    assert.ok(reader.read(new TextEncoder().encode(text), text, 0, out, () => {}));
    n.push(out[0]!, true);
  }
  assert.ok(n.queuedBytes < (1 << 20) + 70_000, `${n.queuedBytes} bytes queued`);
  // Every record that went is counted.
  const dropped = metrics.render().match(/reason="queue_full"\} (\d+)/);
  assert.ok(dropped && Number(dropped[1]) > 400, metrics.render());
});

Deno.test("drop_oldest makes room for a log call without emptying a source's overfill", () => {
  // Sources are let past max_bytes by a batch (they wait once the queue is there); a log call
  // that finds the queue so must drop what it needs, not everything above the bound.
  const stalled: Sink = {
    write: () => new Promise<void>(() => {}),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  const { node: n, metrics } = node(stalled, {
    maxRecords: 100_000,
    maxBytes: 1 << 20,
    whenFull: "drop_oldest",
  });
  for (let i = 0; i < 20_000; i++) n.push(createRecord({ message: "from a source " + i }), false);
  const before = n.depth;
  assert.ok(n.queuedBytes > 1 << 20);
  n.push(createRecord({ message: "a log call" }), true);
  const dropped = Number(metrics.render().match(/reason="queue_full"\} (\d+)/)?.[1]);
  assert.equal(dropped, 1);
  assert.equal(n.depth, before);
});

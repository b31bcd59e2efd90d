import assert from "node:assert/strict";
import {
  configure,
  currentTrace,
  formatTraceparent,
  getLogger,
  memoryRecords,
  parseTraceparent,
  shutdown,
  traceparent,
  withContext,
  withSpan,
} from "../../mod.ts";

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

async function withMemory(fn: (records: ReturnType<typeof memoryRecords>) => Promise<void>) {
  const name = `mem-${crypto.randomUUID()}`;
  await configure({
    loggers: { "": "debug" },
    sources: { app: { type: "logger" } },
    sinks: { [name]: { type: "memory", inputs: ["app"] } },
  });
  try {
    await fn(memoryRecords(name));
  } finally {
    await shutdown();
  }
}

Deno.test("withSpan: records logged inside carry the span's ids across awaits and timers", async () => {
  await withMemory(async (records) => {
    const log = getLogger("pay");
    log.info("outside");
    await withSpan("checkout", async () => {
      log.info("start");
      await new Promise((resolve) => setTimeout(resolve, 1));
      await withSpan("charge", async () => {
        await Promise.resolve();
        log.info("charged");
      });
      log.info("end");
    });
    await shutdown();
    const [outside, start, charged, end] = records;
    assert.equal(outside!.trace_id, undefined);
    assert.equal("span_id" in outside!, false);
    assert.match(start!.trace_id!, HEX32);
    assert.match(start!.span_id!, HEX16);
    assert.equal(start!.parent_span_id, undefined);
    assert.equal(start!.trace_flags, 1);
    assert.equal(charged!.trace_id, start!.trace_id);
    assert.equal(charged!.parent_span_id, start!.span_id);
    assert.notEqual(charged!.span_id, start!.span_id);
    assert.equal(end!.span_id, start!.span_id);
    // Trace ids are record properties, not fields.
    assert.equal(start!.fields.trace_id, undefined);
  });
});

Deno.test("withSpan: concurrent spans keep their own ids and mix with withContext", async () => {
  await withMemory(async (records) => {
    const log = getLogger("c");
    await Promise.all(
      ["a", "b", "c"].map((id) =>
        withContext({ request_id: id }, () =>
          withSpan(id, async () => {
            for (let i = 0; i < 3; i++) {
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
              log.info(id);
            }
          }))
      ),
    );
    await shutdown();
    const byId = new Map<string, Set<string>>();
    for (const r of records) {
      assert.equal(r.fields.request_id, r.message);
      (byId.get(r.message) ?? byId.set(r.message, new Set()).get(r.message)!).add(r.trace_id!);
    }
    assert.equal(byId.size, 3);
    const traces = [...byId.values()].map((set) => {
      assert.equal(set.size, 1);
      return [...set][0];
    });
    assert.equal(new Set(traces).size, 3);
  });
});

Deno.test("withSpan: returns fn's value, sync or async, and rethrows", async () => {
  assert.equal(withSpan("s", () => 42), 42);
  assert.equal(await withSpan("a", () => Promise.resolve(7)), 7);
  assert.throws(() =>
    withSpan("t", () => {
      throw new Error("boom");
    }), /boom/);
  assert.equal(currentTrace(), undefined);
});

Deno.test("traceparent(): formats the current span; parseTraceparent round-trips it", () => {
  assert.equal(traceparent(), undefined);
  withSpan("out", () => {
    const header = traceparent()!;
    const span = currentTrace()!;
    assert.equal(header, `00-${span.trace_id}-${span.span_id}-01`);
    const parsed = parseTraceparent(header)!;
    assert.equal(parsed.trace_id, span.trace_id);
    assert.equal(parsed.span_id, span.span_id);
    assert.equal(formatTraceparent(parsed), header);
  });
});

Deno.test("parseTraceparent: follows W3C Trace Context level 1", () => {
  const id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parent = "00f067aa0ba902b7";
  assert.deepEqual(parseTraceparent(`00-${id}-${parent}-01`), {
    trace_id: id,
    span_id: parent,
    trace_flags: 1,
  });
  assert.equal(parseTraceparent(`00-${id}-${parent}-00`)?.trace_flags, 0);
  assert.equal(parseTraceparent(` 00-${id}-${parent}-01 `)?.trace_id, id, "surrounding spaces");
  // A later version may carry more after the four fields.
  assert.equal(parseTraceparent(`01-${id}-${parent}-01-extra`)?.trace_id, id);
  for (
    const bad of [
      "",
      "garbage",
      `00-${id}-${parent}-01-extra`, // version 00 is exactly 55 characters
      `ff-${id}-${parent}-01`, // version ff is invalid
      `00-${"0".repeat(32)}-${parent}-01`,
      `00-${id}-${"0".repeat(16)}-01`,
      `00-${id.toUpperCase()}-${parent}-01`,
      `00-${id.slice(1)}-${parent}-01`,
      `00-${id}-${parent}-1`,
      `00_${id}_${parent}_01`,
    ]
  ) {
    assert.equal(parseTraceparent(bad), undefined, bad);
  }
  assert.equal(parseTraceparent(undefined), undefined);
  assert.equal(parseTraceparent(null), undefined);
});

import assert from "node:assert/strict";
import type { LogRecord } from "../../../../src/core/record.ts";
import {
  StatsAggregator,
  type StatsSettings,
} from "../../../../plugins/sinks/stats/stats_aggregator.ts";
import { StatsMergeError } from "../../../../plugins/sinks/stats/stats_merge_error.ts";
import { HyperLogLog } from "../../../../plugins/sinks/stats/hyperloglog.ts";
import { TopMessages } from "../../../../plugins/sinks/stats/top_messages.ts";
import { WindowedDistinct } from "../../../../plugins/sinks/stats/windowed_distinct.ts";

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const MINUTE = 60_000;

/** A clock the test moves by hand. */
function clock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => now += ms, set: (ms: number) => now = ms };
}

function settings(over: Partial<StatsSettings> = {}): StatsSettings {
  return {
    window: 5 * MINUTE,
    serviceField: "service",
    maxServices: 100,
    recentErrors: 10,
    topErrors: 5,
    maxExactTraces: 10_000,
    ...over,
  };
}

function rec(
  service: string | undefined,
  level: number,
  message = "m",
  extra: Partial<LogRecord> = {},
): LogRecord {
  return {
    time: T0,
    level,
    logger: "app",
    message,
    fields: service === undefined ? {} : { service },
    ...extra,
  };
}

function traceId(i: number): string {
  return i.toString(16).padStart(32, "0");
}

Deno.test("counts records per service and level name, slide 14's service_distribution", () => {
  const c = clock();
  const stats = new StatsAggregator(settings(), { now: c.now });
  stats.add([rec("service1", 20), rec("service1", 20), rec("service1", 30), rec("service1", 40)]);
  stats.add([rec("service2", 20), rec("service2", 50), rec(undefined, 10), rec("service2", 25)]);
  const a = stats.analysis();
  assert.equal(a.total_services, 3);
  assert.deepEqual(a.service_distribution, {
    service1: { INFO: 2, WARN: 1, ERROR: 1 },
    service2: { INFO: 2, CRITICAL: 1 },
    unknown: { DEBUG: 1 },
  });
  assert.equal(a.records_total, 8);
});

Deno.test("active_traces counts distinct trace ids (record ids, else a trace_id field) within the window", () => {
  const c = clock();
  const stats = new StatsAggregator(settings(), { now: c.now });
  stats.add([
    rec("a", 20, "m", { trace_id: traceId(1) }),
    rec("a", 20, "m", { trace_id: traceId(1) }),
    rec("b", 20, "m", { trace_id: traceId(2) }),
    { ...rec("c", 20), fields: { service: "c", trace_id: "trace-123" } },
    rec("c", 20),
  ]);
  assert.equal(stats.analysis().active_traces, 3);
  assert.equal(stats.analysis().active_traces_exact, true);
  c.advance(3 * MINUTE);
  stats.add([
    rec("a", 20, "m", { trace_id: traceId(3) }),
    rec("a", 20, "m", { trace_id: traceId(1) }),
  ]);
  assert.equal(stats.analysis().active_traces, 4);
  // 5m after the first batch its slot has left the window; traces 1 and 3 were seen since.
  c.advance(2 * MINUTE + 1);
  assert.equal(stats.analysis().active_traces, 2);
  c.advance(5 * MINUTE);
  assert.equal(stats.analysis().active_traces, 0);
  // Counts since the start stay.
  assert.equal(stats.analysis().records_total, 7);
});

Deno.test("the window never moves backwards when the clock does", () => {
  const c = clock();
  const stats = new StatsAggregator(settings(), { now: c.now });
  stats.add([rec("a", 20, "m", { trace_id: traceId(1) })]);
  c.advance(-10 * MINUTE);
  stats.add([rec("a", 20, "m", { trace_id: traceId(2) })]);
  assert.equal(stats.analysis().active_traces, 2);
});

Deno.test("beyond max_exact_traces the count is a HyperLogLog estimate within 3% (4 standard errors) and says so", () => {
  const c = clock();
  const stats = new StatsAggregator(settings({ maxExactTraces: 1000 }), { now: c.now });
  const n = 100_000;
  for (let start = 0; start < n; start += 1000) {
    const batch: LogRecord[] = [];
    for (let i = start; i < start + 1000; i++) {
      batch.push(rec("a", 20, "m", { trace_id: traceId(i) }));
      batch.push(rec("a", 20, "m", { trace_id: traceId(i) }));
    }
    stats.add(batch);
    c.advance(1000);
  }
  const a = stats.analysis();
  assert.equal(a.active_traces_exact, false);
  assert.ok(Math.abs(a.active_traces - n) / n < 0.03, `estimate ${a.active_traces} of ${n}`);
});

Deno.test("HyperLogLog: small counts are exact-ish by linear counting, large within 3%, union by merge", () => {
  const a = new HyperLogLog();
  for (let i = 0; i < 100; i++) a.add(traceId(i));
  assert.ok(Math.abs(a.estimate() - 100) <= 2, `small ${a.estimate()}`);
  const b = new HyperLogLog();
  for (let i = 0; i < 300_000; i++) b.add(traceId(i));
  const c = new HyperLogLog();
  for (let i = 200_000; i < 500_000; i++) c.add(traceId(i));
  b.merge(c);
  assert.ok(Math.abs(b.estimate() - 500_000) / 500_000 < 0.03, `union ${b.estimate()}`);
  const copy = HyperLogLog.fromBase64(b.toBase64());
  assert.equal(copy.estimate(), b.estimate());
  assert.throws(() => new HyperLogLog(new Uint8Array(10)), RangeError);
});

Deno.test("WindowedDistinct: memory stays under its exact budget; a sketched slot leaves the window like the others", () => {
  const w = new WindowedDistinct(3, 10);
  for (let i = 0; i < 50; i++) w.add(1, `k${i}`);
  assert.deepEqual(w.count(1), { count: 50, exact: false });
  assert.ok(w.state(1)[0]?.hll !== undefined && w.state(1)[0]?.ids === undefined);
  // The budget came back when the sketched slot was reused.
  w.add(4, "x");
  w.add(4, "y");
  assert.deepEqual(w.count(4), { count: 2, exact: true });
});

Deno.test("recent errors: ERROR and above within the window, newest first, bounded, with service and trace id", () => {
  const c = clock();
  const stats = new StatsAggregator(settings({ recentErrors: 3 }), { now: c.now });
  stats.add([
    rec("service1", 40, "Database connection timeout", { time: T0, trace_id: traceId(7) }),
    rec("service1", 30, "slow"),
  ]);
  c.advance(MINUTE);
  stats.add([rec("service2", 40, "Authentication failed", { time: T0 + MINUTE })]);
  let errors = stats.analysis().recent_errors;
  assert.deepEqual(errors, [
    {
      time: new Date(T0 + MINUTE).toISOString(),
      level: "ERROR",
      message: "Authentication failed",
      service: "service2",
    },
    {
      time: new Date(T0).toISOString(),
      level: "ERROR",
      message: "Database connection timeout",
      service: "service1",
      trace_id: traceId(7),
    },
  ]);
  stats.add([
    rec("s", 50, "e3", { time: T0 + MINUTE + 1 }),
    rec("s", 40, "e4", { time: T0 + MINUTE + 2 }),
  ]);
  errors = stats.analysis().recent_errors;
  assert.deepEqual(errors.map((e) => e.message), ["e4", "e3", "Authentication failed"]);
  assert.equal(errors[1]?.level, "CRITICAL");
  c.advance(5 * MINUTE);
  assert.deepEqual(stats.analysis().recent_errors, []);
});

Deno.test("a record with an impossible time still shows among recent errors, at its arrival", () => {
  const c = clock();
  const stats = new StatsAggregator(settings(), { now: c.now });
  stats.add([rec("a", 40, "bad time", { time: NaN })]);
  assert.equal(stats.analysis().recent_errors[0]?.time, new Date(T0).toISOString());
});

Deno.test("rates are records per second per service over the window, or since the start when shorter", () => {
  const c = clock();
  const stats = new StatsAggregator(settings(), { now: c.now });
  c.advance(10_000);
  stats.add(Array.from({ length: 50 }, () => rec("api", 20)));
  stats.add(Array.from({ length: 10 }, () => rec("db", 20)));
  assert.deepEqual(stats.analysis().rates, { api: 5, db: 1 });
  c.advance(5 * MINUTE);
  stats.add(Array.from({ length: 600 }, () => rec("api", 20)));
  assert.deepEqual(stats.analysis().rates, { api: 2, db: 0 });
});

Deno.test("top_errors: the most frequent error messages within the window, exact while few", () => {
  const c = clock();
  const stats = new StatsAggregator(settings({ topErrors: 2 }), { now: c.now });
  const batch = [
    ...Array.from({ length: 5 }, () => rec("a", 40, "Database connection timeout")),
    ...Array.from({ length: 3 }, () => rec("b", 40, "Authentication failed")),
    rec("b", 40, "Disk full"),
    ...Array.from({ length: 9 }, () => rec("b", 30, "warnings do not count")),
  ];
  stats.add(batch);
  assert.deepEqual(stats.analysis().top_errors, [
    { message: "Database connection timeout", count: 5, error: 0 },
    { message: "Authentication failed", count: 3, error: 0 },
  ]);
});

Deno.test("top_errors: errors leave the ranking as their slot leaves the window", () => {
  const c = clock();
  const stats = new StatsAggregator(settings({ topErrors: 2 }), { now: c.now });
  stats.add(Array.from({ length: 5 }, () => rec("a", 40, "Database connection timeout")));
  c.advance(3 * MINUTE);
  stats.add(Array.from({ length: 3 }, () => rec("b", 40, "Authentication failed")));
  stats.add([rec("b", 40, "Database connection timeout")]);
  assert.deepEqual(stats.analysis().top_errors, [
    { message: "Database connection timeout", count: 6, error: 0 },
    { message: "Authentication failed", count: 3, error: 0 },
  ]);
  // 5m after the first batch its slot has left the 5m window; the later ones have not.
  c.advance(2 * MINUTE);
  assert.deepEqual(stats.analysis().top_errors, [
    { message: "Authentication failed", count: 3, error: 0 },
    { message: "Database connection timeout", count: 1, error: 0 },
  ]);
  c.advance(3 * MINUTE);
  assert.deepEqual(stats.analysis().top_errors, []);
  // The counts since the start stay in service_distribution.
  assert.deepEqual(stats.analysis().service_distribution, { a: { ERROR: 5 }, b: { ERROR: 4 } });
});

Deno.test("top_errors within the window: many distinct messages across slots keep the heavy hitters, counts bound the truth", () => {
  const c = clock();
  const stats = new StatsAggregator(settings({ topErrors: 2 }), { now: c.now });
  const truth = new Map<string, number>();
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let slot = 0; slot < 120; slot++) {
    c.advance(5_000);
    const batch = Array.from({ length: 200 }, () => {
      const message = random() < 0.4
        ? `hot ${Math.floor(random() * 2)}`
        : `cold ${Math.floor(random() * 3000)}`;
      return rec("a", 40, message);
    });
    stats.add(batch);
    // Only the last 60 slots (5m) are in the window.
    if (slot >= 60) {
      for (const r of batch) truth.set(r.message, (truth.get(r.message) ?? 0) + 1);
    }
  }
  const top = stats.analysis().top_errors;
  assert.deepEqual(top.map((t) => t.message).sort(), ["hot 0", "hot 1"]);
  for (const t of top) {
    const real = truth.get(t.message)!;
    assert.ok(
      t.count >= real && t.count - t.error <= real,
      `${t.message}: ${real} in ${t.count}±${t.error}`,
    );
  }
});

Deno.test("Space-Saving: with more distinct messages than counters, heavy hitters stay and counts bound the truth", () => {
  const top = new TopMessages(10);
  const truth = new Map<string, number>();
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 20_000; i++) {
    const message = random() < 0.5 ? `hot ${i % 3}` : `cold ${Math.floor(random() * 5000)}`;
    top.add(message);
    truth.set(message, (truth.get(message) ?? 0) + 1);
  }
  const best = top.top(3);
  assert.deepEqual(best.map((c) => c.message).sort(), ["hot 0", "hot 1", "hot 2"]);
  for (const c of top.state()) {
    const real = truth.get(c.message)!;
    assert.ok(
      c.count >= real && c.count - c.error <= real,
      `${c.message}: ${real} in ${c.count}±${c.error}`,
    );
  }
  top.add("x".repeat(1000));
  assert.ok(top.state().every((c) => c.message.length <= 200));
});

Deno.test("services beyond max_services count under _other, reported once", () => {
  const c = clock();
  const overflowed: string[] = [];
  const stats = new StatsAggregator(settings({ maxServices: 2 }), {
    now: c.now,
    onOverflow: (s) => overflowed.push(s),
  });
  stats.add([rec("a", 20), rec("b", 20), rec("c", 20), rec("d", 40), rec("a", 20), rec("c", 20)]);
  const a = stats.analysis();
  assert.equal(a.total_services, 2);
  assert.deepEqual(a.service_distribution, {
    a: { INFO: 2 },
    b: { INFO: 1 },
    _other: { INFO: 2, ERROR: 1 },
  });
  assert.deepEqual(overflowed, ["c"]);
  assert.equal(a.recent_errors[0]?.service, "_other");
});

Deno.test("service names: numbers kept as text, objects and empty strings are unknown, long names cut", () => {
  const c = clock();
  const stats = new StatsAggregator(settings(), { now: c.now });
  const long = "s".repeat(1000);
  stats.add([
    { ...rec(undefined, 20), fields: { service: 42 } },
    { ...rec(undefined, 20), fields: { service: { nested: true } } },
    rec("", 20),
    rec(long, 20),
  ]);
  assert.deepEqual(Object.keys(stats.analysis().service_distribution).map((k) => k.length), [
    2,
    7,
    256,
  ]);
});

Deno.test("the service field is configurable", () => {
  const stats = new StatsAggregator(settings({ serviceField: "app" }), { now: clock().now });
  stats.add([{ ...rec(undefined, 20), fields: { app: "checkout", service: "ignored" } }]);
  assert.deepEqual(Object.keys(stats.analysis().service_distribution), ["checkout"]);
});

Deno.test("merge: counts and rates add, traces union, recent errors interleave, top errors combine", () => {
  const c = clock();
  const one = new StatsAggregator(settings({ recentErrors: 3 }), { now: c.now });
  const two = new StatsAggregator(settings({ recentErrors: 3 }), { now: c.now });
  c.advance(10_000);
  one.add([
    rec("api", 20, "m", { trace_id: traceId(1) }),
    rec("api", 40, "timeout", { trace_id: traceId(2), time: T0 + 1 }),
    rec("db", 30),
  ]);
  two.add([
    rec("api", 20, "m", { trace_id: traceId(2) }),
    rec("api", 40, "timeout", { time: T0 + 3 }),
    rec("web", 40, "denied", { trace_id: traceId(3), time: T0 + 2 }),
  ]);
  // Through JSON, as a state would travel between processes.
  one.merge(JSON.parse(JSON.stringify(two.state())));
  const a = one.analysis();
  assert.deepEqual(a.service_distribution, {
    api: { INFO: 2, ERROR: 2 },
    db: { WARN: 1 },
    web: { ERROR: 1 },
  });
  assert.equal(a.total_services, 3);
  assert.equal(a.records_total, 6);
  assert.equal(a.active_traces, 3);
  assert.equal(a.active_traces_exact, true);
  assert.deepEqual(a.rates, { api: 0.4, db: 0.1, web: 0.1 });
  assert.deepEqual(a.recent_errors.map((e) => [e.service, e.message]), [
    ["api", "timeout"],
    ["web", "denied"],
    ["api", "timeout"],
  ]);
  assert.deepEqual(a.top_errors, [
    { message: "timeout", count: 2, error: 0 },
    { message: "denied", count: 1, error: 0 },
  ]);
});

Deno.test("merge: sketched trace slots union with exact ones; services past max_services join _other", () => {
  const c = clock();
  const big = new StatsAggregator(settings({ maxExactTraces: 100 }), { now: c.now });
  const small = new StatsAggregator(settings({ maxServices: 1 }), { now: c.now });
  big.add(Array.from({ length: 5000 }, (_, i) => rec("x", 20, "m", { trace_id: traceId(i) })));
  small.add(
    Array.from({ length: 1000 }, (_, i) => rec("y", 20, "m", { trace_id: traceId(i + 4500) })),
  );
  small.merge(big.state());
  const a = small.analysis();
  assert.equal(a.active_traces_exact, false);
  assert.ok(Math.abs(a.active_traces - 5500) / 5500 < 0.03, `estimate ${a.active_traces}`);
  assert.deepEqual(a.service_distribution, { y: { INFO: 1000 }, _other: { INFO: 5000 } });
});

Deno.test("merge: states of another window are refused with StatsMergeError", () => {
  const one = new StatsAggregator(settings(), { now: clock().now });
  const two = new StatsAggregator(settings({ window: MINUTE }), { now: clock().now });
  assert.throws(() => one.merge(two.state()), StatsMergeError);
});

Deno.test("merge: slots that left the merging aggregator's window are skipped", () => {
  const early = clock();
  const late = clock(T0 + 10 * MINUTE);
  const old = new StatsAggregator(settings(), { now: early.now });
  old.add([rec("a", 40, "old", { trace_id: traceId(1) })]);
  const current = new StatsAggregator(settings(), { now: late.now });
  current.merge(old.state());
  const a = current.analysis();
  assert.equal(a.active_traces, 0);
  assert.deepEqual(a.recent_errors, []);
  assert.deepEqual(a.service_distribution, { a: { ERROR: 1 } });
  assert.deepEqual(a.top_errors, [], "its errors left the window with their slot");
});

Deno.test("counters come from the hook, so a sink's counts are its /metrics series", () => {
  const made: string[] = [];
  const stats = new StatsAggregator(settings(), {
    now: clock().now,
    counter: (service, level) => {
      made.push(`${service}/${level}`);
      const counter = { value: 0, inc: (n = 1) => counter.value += n };
      return counter;
    },
  });
  stats.add([rec("a", 20), rec("a", 20), rec("a", 40), rec("b", 20)]);
  assert.deepEqual(made, ["a/INFO", "a/ERROR", "b/INFO"]);
});

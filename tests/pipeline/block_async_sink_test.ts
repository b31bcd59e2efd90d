import assert from "node:assert/strict";
import { MOD, runScript } from "../helpers/run_script.ts";

Deno.test("when_full block on a plugin sink without writeSync: the log calls it cannot hold are counted and said with why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runScript(
      `import { configure, definePlugin, getLogger, s, shutdown } from ${JSON.stringify(MOD)};
const slow = definePlugin({
  kind: "sink",
  type: "slow_async",
  description: "Writes asynchronously only (tests).",
  options: s.object({}),
  create: () => ({
    write: () => new Promise((resolve) => setTimeout(resolve, 5)),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  }),
});
const pipeline = await configure({
  sources: { app: { type: "logger" } },
  sinks: { slow: { type: "slow_async", buffer: { max_records: 10 } } },
}, { plugins: [slow] });
const log = getLogger("app");
for (let i = 0; i < 100; i++) log.info("record " + i);
const dropped = pipeline.metrics.sum("records_dropped_total", { component: "slow", reason: "queue_full" });
const out = () => pipeline.metrics.sum("records_out_total", { component: "slow" });
await shutdown();
console.log(JSON.stringify({ dropped, out: out() }));
`,
      dir,
    );
    assert.equal(result.code, 0, result.stderr);
    const { dropped, out } = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    // The loop never yields: 5 records went out in the write a half-full queue starts, 10 fill
    // the queue again, and the other 85 log calls cannot wait.
    assert.equal(dropped, 85);
    assert.equal(out, 15);
    assert.match(
      result.stderr,
      /Sink "slow" is dropping records \(queue_full: its queue is full at max_records 10, when_full block \(block cannot hold a log call: this sink has no writeSync; sources still wait\)\)/,
    );
    assert.match(result.stderr, /sink "slow" 85 queue_full/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

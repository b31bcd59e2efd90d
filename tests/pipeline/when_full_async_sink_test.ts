// `when_full: block` makes a log call write a full queue synchronously. A sink whose plugin
// cannot write synchronously cannot honour it: before, 85 of 100 log calls in a loop were
// dropped under the default block. Now an explicit block there is a config error, and the
// unset default resolves to drop_newest, which says and counts what it drops.
import assert from "node:assert/strict";
import { MOD, runScript } from "../helpers/run_script.ts";

/** A script that configures `sinks.slow` (a plugin sink) and logs 100 records in a loop. */
function script(plugin: string, buffer: string): string {
  return `import { configure, definePlugin, getLogger, s, shutdown } from ${JSON.stringify(MOD)};
const slow = definePlugin(${plugin});
let pipeline;
try {
  pipeline = await configure({
    sources: { app: { type: "logger" } },
    sinks: { slow: { type: "slow", buffer: ${buffer} } },
  }, { plugins: [slow] });
} catch (error) {
  console.log(JSON.stringify({ error: error.constructor.name, message: error.message }));
  Deno.exit(0);
}
const log = getLogger("app");
for (let i = 0; i < 100; i++) log.info("record " + i);
const dropped = pipeline.metrics.sum("records_dropped_total", { component: "slow", reason: "queue_full" });
await shutdown();
const out = pipeline.metrics.sum("records_out_total", { component: "slow" });
console.log(JSON.stringify({ dropped, out }));
`;
}

const ASYNC = `{
  kind: "sink",
  type: "slow",
  description: "Writes asynchronously only (tests).",
  options: s.object({}),
  create: () => ({
    write: () => new Promise((resolve) => setTimeout(resolve, 5)),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  }),
}`;

const SYNC = `{
  kind: "sink",
  type: "slow",
  writesSync: true,
  description: "Writes synchronously too (tests).",
  options: s.object({}),
  create: () => ({
    writeSync: () => {},
    write: () => new Promise((resolve) => setTimeout(resolve, 5)),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  }),
}`;

async function run(plugin: string, buffer: string) {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runScript(script(plugin, buffer), dir);
    assert.equal(result.code, 0, result.stderr);
    return { ...JSON.parse(result.stdout.trim().split("\n").at(-1)!), stderr: result.stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("configure(): an explicit when_full block on an async-only sink fed by a logger is a ConfigError that says why and what instead", async () => {
  const { error, message } = await run(ASYNC, "{ max_records: 10, when_full: 'block' }");
  assert.equal(error, "ConfigError");
  assert.match(
    message,
    /sinks\.slow\.buffer\.when_full: when_full "block" cannot hold a log call on sink "slow": its type "slow" writes only asynchronously \(its plugin declares no writesSync\), and logger source "app" feeds it \(use drop_newest or drop_oldest/,
  );
});

Deno.test("configure(): when_full unset on an async-only sink fed by a logger resolves to drop_newest, said and counted", async () => {
  const { dropped, out, stderr } = await run(ASYNC, "{ max_records: 10 }");
  // The loop never yields: 5 records went out in the write a half-full queue starts, 10 fill
  // the queue again, and the other 85 are dropped — the same records as before, now under a
  // policy that says so.
  assert.equal(dropped, 85);
  assert.equal(out, 15);
  assert.match(
    stderr,
    /Sink "slow" is dropping records \(queue_full: its queue is full at max_records 10, when_full drop_newest\)/,
  );
  assert.match(stderr, /sink "slow" 85 queue_full/);
});

Deno.test("configure(): a sink that declares writesSync honours when_full block: a log call writes, nothing dropped", async () => {
  for (const buffer of ["{ max_records: 10, when_full: 'block' }", "{ max_records: 10 }"]) {
    const { dropped, out } = await run(SYNC, buffer);
    assert.equal(dropped, 0, buffer);
    assert.equal(out, 100, buffer);
  }
});

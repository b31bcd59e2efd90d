import assert from "node:assert/strict";
import { MOD, runScript } from "../helpers/run_script.ts";

Deno.test("before configure(), records at INFO and above go to stderr as text", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await runScript(
      `import { getLogger } from "${MOD}";
       const log = getLogger("app.start");
       log.debug("hidden");
       log.info("listening", { port: 8080 });
       log.error("failed");`,
      dir,
    );
    assert.equal(code, 0);
    assert.equal(stdout, "");
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 2, stderr);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO app\.start - listening port=8080$/);
    assert.match(lines[1]!, /ERROR app\.start - failed$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("before configure(), the root logger asked for first also writes to stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await runScript(
      `import { getLogger } from "${MOD}";
       getLogger().info("from the root");`,
      dir,
    );
    assert.equal(code, 0);
    assert.match(stderr, /INFO root - from the root\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Deno.exit() without shutdown() still writes every record a file sink accepted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await runScript(
      `import { configure, getLogger } from "${MOD}";
       await configure({ sources: { app: { type: "logger" } }, sinks: { f: { type: "file", path: "out.log" } } });
       const log = getLogger("exit");
       for (let i = 0; i < 25_000; i++) log.info("r", { i });
       Deno.exit(0);`,
      dir,
    );
    assert.equal(code, 0, stderr);
    const lines = (await Deno.readTextFile(`${dir}/out.log`)).trim().split("\n");
    assert.equal(lines.length, 25_000);
    assert.equal(JSON.parse(lines.at(-1)!).i, 24_999);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a program that simply ends without shutdown() loses nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await runScript(
      `import { configure, getLogger } from "${MOD}";
       await configure({ sources: { app: { type: "logger" } }, sinks: { f: { type: "file", path: "out.log", format: "logfmt" } } });
       for (let i = 0; i < 1000; i++) getLogger("end").info("r", { i });`,
      dir,
    );
    assert.equal(code, 0, stderr);
    const lines = (await Deno.readTextFile(`${dir}/out.log`)).trim().split("\n");
    assert.equal(lines.length, 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Deno.exit() with records still queued for an asynchronous sink says how many are lost", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await runScript(
      `import { configure, definePlugin, getLogger, s } from "${MOD}";
       const remote = definePlugin({
         kind: "sink", type: "test_remote", description: "An async sink (tests).",
         options: s.object({}),
         create: () => ({ write: () => Promise.resolve(), [Symbol.asyncDispose]: () => Promise.resolve() }),
       });
       await configure({
         sources: { app: { type: "logger" } },
         sinks: { remote: { type: "test_remote" } },
       }, { plugins: [remote] });
       for (let i = 0; i < 3; i++) getLogger("exit").info("r", { i });
       Deno.exit(0);`,
      dir,
    );
    assert.equal(code, 0, stderr);
    assert.match(stderr, /3 records .*lost/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a program whose sink keeps failing still ends, and says what it could not deliver", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const started = Date.now();
    const { code, stderr } = await runScript(
      `import { configure, definePlugin, getLogger, s } from "${MOD}";
       const down = definePlugin({
         kind: "sink", type: "test_down", description: "A sink whose peer is unreachable (tests).",
         options: s.object({}),
         create: () => ({
           write: () => Promise.reject(new Error("connection refused")),
           [Symbol.asyncDispose]: () => Promise.resolve(),
         }),
       });
       await configure({ sources: { app: { type: "logger" } }, sinks: { down: { type: "test_down" } } }, { plugins: [down] });
       for (let i = 0; i < 5; i++) getLogger("down").info("r", { i });`,
      dir,
    );
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started < 20_000, "the retry timers do not hold the process");
    assert.match(stderr, /Cannot write to sink "down"/);
    assert.match(stderr, /5 records .*lost/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after shutdown(), records go to stderr as text, with a one-time notice that logging is shut down", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await runScript(
      `import { configure, getLogger, shutdown } from "${MOD}";
       await configure({
         loggers: { "": "info" },
         sources: { app: { type: "logger" } },
         sinks: { mem: { type: "memory" } },
       });
       const log = getLogger("late");
       await shutdown();
       log.debug("below the level");
       log.error("after shutdown", { order: 1 });
       log.info("still after", { order: 2 });`,
      dir,
    );
    assert.equal(code, 0);
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 3, stderr);
    assert.match(lines[0]!, /sluice WARN Logging is shut down: records logged after shutdown\(\)/);
    assert.match(lines[1]!, /ERROR late - after shutdown order=1$/);
    assert.match(lines[2]!, /INFO late - still after order=2$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after the configured pipeline is disposed (await using), records go to stderr too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await runScript(
      `import { configure, getLogger } from "${MOD}";
       {
         await using _pipeline = await configure({
           sources: { app: { type: "logger" } },
           sinks: { mem: { type: "memory" } },
         });
       }
       getLogger("late").critical("after dispose");
       getLogger("late").critical("again");`,
      dir,
    );
    assert.equal(code, 0);
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 3, stderr);
    assert.match(lines[0]!, /Logging is shut down/);
    assert.match(lines[1]!, /CRITICAL late - after dispose$/);
    assert.match(lines[2]!, /CRITICAL late - again$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configure() after shutdown() takes the loggers back from stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await runScript(
      `import { configure, getLogger, memoryRecords, shutdown } from "${MOD}";
       const config = {
         sources: { app: { type: "logger" } },
         sinks: { mem: { type: "memory", name: "again" } },
       };
       await configure(config);
       await shutdown();
       getLogger("late").warn("to stderr");
       await configure(config);
       getLogger("late").warn("to the sink");
       await shutdown();
       console.log(memoryRecords("again").map((r) => r.message).join(","));
       // No logger source: calls go nowhere by the user's choice, not to stderr.
       await configure({ sinks: { mem: { type: "memory" } } });
       getLogger("late").warn("nowhere");`,
      dir,
    );
    assert.equal(code, 0);
    assert.equal(stdout.trim(), "to the sink");
    assert.match(stderr, /WARN late - to stderr\n/);
    assert.doesNotMatch(stderr, /to the sink|nowhere/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import {
  configure,
  currentPipeline,
  definePlugin,
  getLogger,
  Level,
  Logger,
  memoryRecords,
  s,
  shutdown,
  withContext,
} from "../../mod.ts";

async function withMemory(
  loggers: Record<string, unknown>,
  fn: (records: ReturnType<typeof memoryRecords>) => Promise<void> | void,
  extra: Record<string, unknown> = {},
) {
  const name = `mem-${crypto.randomUUID()}`;
  await configure({
    loggers,
    sources: { app: { type: "logger" }, ...(extra.sources as object ?? {}) },
    sinks: { [name]: { type: "memory", inputs: ["app"] }, ...(extra.sinks as object ?? {}) },
  });
  try {
    await fn(memoryRecords(name));
  } finally {
    await shutdown();
  }
}

Deno.test("levels: a logger passes records at or above its effective level", async () => {
  await withMemory({ "": "warn" }, async (records) => {
    const log = getLogger("levels");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    log.critical("c");
    await shutdown();
    assert.deepEqual(records.map((r) => r.message), ["w", "e", "c"]);
    assert.deepEqual(records.map((r) => r.level), [Level.WARN, Level.ERROR, Level.CRITICAL]);
  });
});

Deno.test("hierarchy: a child inherits the nearest explicit level, as in Python", async () => {
  await withMemory({ "": "error", payment: "info", "payment.db": "debug" }, async (records) => {
    getLogger("payment.db.pool").debug("pool");
    getLogger("payment.api").debug("api-debug");
    getLogger("payment.api").info("api-info");
    getLogger("other").warn("other-warn");
    getLogger("other").error("other-error");
    await shutdown();
    assert.deepEqual(records.map((r) => r.message), ["pool", "api-info", "other-error"]);
    assert.equal(records[0]!.logger, "payment.db.pool");
  });
});

Deno.test("propagation: a logger with propagate false stops at its own attachments", async () => {
  const name = `mem-${crypto.randomUUID()}`;
  const audit = `audit-${crypto.randomUUID()}`;
  await configure({
    loggers: { "": "debug", audit: { level: "info", propagate: false } },
    sources: { root: { type: "logger" }, audit_src: { type: "logger", logger: "audit" } },
    sinks: {
      [name]: { type: "memory", inputs: ["root"] },
      [audit]: { type: "memory", inputs: ["audit_src"] },
    },
  });
  getLogger("audit.login").info("login");
  getLogger("app").info("app");
  await shutdown();
  assert.deepEqual(memoryRecords(name).map((r) => r.message), ["app"]);
  assert.deepEqual(memoryRecords(audit).map((r) => r.message), ["login"]);
});

Deno.test("isEnabled reflects both the logger level and the sinks behind it", async () => {
  const name = `mem-${crypto.randomUUID()}`;
  await configure({
    loggers: { "": "debug" },
    sources: { app: { type: "logger" } },
    sinks: { [name]: { type: "memory", level: "warn" } },
  });
  const log = getLogger("gate");
  assert.equal(
    log.isEnabled("info"),
    false,
    "no sink takes INFO, so the call is skipped at the gate",
  );
  assert.equal(log.isEnabled("warn"), true);
  await shutdown();
});

Deno.test("lazy field values are evaluated only when the record is built", async () => {
  await withMemory({ "": "info" }, async (records) => {
    let calls = 0;
    const log = getLogger("lazy");
    log.debug("skipped", { cost: () => ++calls });
    log.info("kept", { cost: () => ++calls });
    await shutdown();
    assert.equal(calls, 1);
    assert.equal(records[0]!.fields.cost, 1);
  });
});

Deno.test("child loggers carry bound fields; call fields win on conflict", async () => {
  await withMemory({ "": "info" }, async (records) => {
    const log = getLogger("child").child({ service: "api", region: "eu" });
    log.info("one", { region: "us", n: 1 });
    await shutdown();
    assert.deepEqual(records[0]!.fields, { service: "api", region: "us", n: 1 });
    assert.equal(records[0]!.logger, "child");
  });
});

Deno.test("context fields follow a request across awaits and timers", async () => {
  await withMemory({ "": "info" }, async (records) => {
    const log = getLogger("ctx");
    await Promise.all(["a", "b"].map((id) =>
      withContext({ request_id: id }, async () => {
        await new Promise((r) => setTimeout(r, id === "a" ? 20 : 5));
        log.info(`done ${id}`);
        await withContext({ step: 2 }, async () => {
          await Promise.resolve();
          log.info(`nested ${id}`);
        });
      })
    ));
    log.info("outside");
    await shutdown();
    const byMessage = Object.fromEntries(records.map((r) => [r.message, r.fields]));
    assert.deepEqual(byMessage["done a"], { request_id: "a" });
    assert.deepEqual(byMessage["nested b"], { request_id: "b", step: 2 });
    assert.deepEqual(byMessage["outside"], {});
  });
});

Deno.test("errors are serialized with name, message, stack and cause chain", async () => {
  await withMemory({ "": "info" }, async (records) => {
    const log = getLogger("err");
    const root = new TypeError("socket closed");
    log.error(new Error("charge failed", { cause: root }), { order: 7 });
    log.error("with field", { err: new RangeError("bad amount") });
    await shutdown();
    const [first, second] = records;
    assert.equal(first!.message, "charge failed");
    assert.equal(first!.error?.name, "Error");
    assert.match(first!.error?.stack ?? "", /charge failed/);
    assert.equal(typeof first!.error?.cause === "object" && first!.error.cause.name, "TypeError");
    assert.deepEqual(first!.fields, { order: 7 });
    assert.equal(second!.error?.name, "RangeError");
    assert.equal("err" in second!.fields, false);
  });
});

Deno.test("configure() again hands loggers to the new pipeline without losing or duplicating a record", async () => {
  const first = `first-${crypto.randomUUID()}`;
  const second = `second-${crypto.randomUUID()}`;
  const config = (name: string) => ({
    sources: { app: { type: "logger" } },
    sinks: { [name]: { type: "memory" } },
  });
  await configure(config(first));
  const log = getLogger("swap");
  let i = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < 50; k++) log.info("r", { i: i++ });
  }, 1);
  await new Promise((r) => setTimeout(r, 30));
  await configure(config(second));
  await new Promise((r) => setTimeout(r, 30));
  clearInterval(timer);
  await shutdown();
  const ids = [...memoryRecords(first), ...memoryRecords(second)].map((r) => r.fields.i as number);
  assert.equal(ids.length, i);
  assert.equal(new Set(ids).size, i);
  assert.ok(memoryRecords(first).length > 0 && memoryRecords(second).length > 0);
});

Deno.test("two configure() calls at once: the later call's pipeline gets the loggers and nothing is dropped", async () => {
  // A source that takes a while to start, so the first call finishes after the second.
  const slowSource = definePlugin({
    kind: "source",
    type: "test_slow_start",
    description: "Starts after a delay (tests).",
    options: s.object({}),
    create: () => ({
      start: () => new Promise<void>((r) => setTimeout(r, 50)),
      [Symbol.asyncDispose]: () => Promise.resolve(),
    }),
  });
  const first = `first-${crypto.randomUUID()}`;
  const second = `second-${crypto.randomUUID()}`;
  const a = configure({
    sources: { app: { type: "logger" }, slow: { type: "test_slow_start" } },
    sinks: { [first]: { type: "memory", inputs: ["app", "slow"] } },
  }, { plugins: [slowSource] });
  const b = configure({
    sources: { app: { type: "logger" } },
    sinks: { [second]: { type: "memory" } },
  });
  const [pipelineA, pipelineB] = await Promise.all([a, b]);
  getLogger("race").info("after both");
  await shutdown();
  assert.equal(memoryRecords(second).length, 1, "the later call wins");
  assert.equal(memoryRecords(first).length, 0);
  for (const pipeline of [pipelineA, pipelineB]) {
    assert.equal(pipeline.metrics.sum("records_dropped_total"), 0);
  }
});

Deno.test("configure() without a logger source detaches the default output: calls cost one comparison", async () => {
  const { getLogger: get } = await import("../../mod.ts");
  get("before").info("default output is attached"); // installs the default stderr output
  const dir = await Deno.makeTempDir();
  try {
    await configure({
      sources: { feed: { type: "stdin" } },
      sinks: { out: { type: "file", path: `${dir}/out.log` } },
    });
    assert.equal(get("after").isEnabled("critical"), false);
  } finally {
    await shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configure() awaited by a plugin's start() is reported on stderr as the deadlock it is", async () => {
  // The stuck call would block every later configure() in this process: run it in a child.
  const mod = new URL("../../mod.ts", import.meta.url).href;
  const code = `
    import { configure, definePlugin, s } from ${JSON.stringify(mod)};
    const reentrant = definePlugin({
      kind: "source", type: "reentrant", description: "Awaits configure() in start().",
      options: s.object({}),
      create: () => ({
        start: () => configure({ sinks: { inner: { type: "memory" } } }).then(() => {}),
        [Symbol.asyncDispose]: () => Promise.resolve(),
      }),
    });
    configure({
      sources: { app: { type: "logger" }, bad: { type: "reentrant" } },
      sinks: { out: { type: "memory", inputs: ["app", "bad"] } },
    }, { plugins: [reentrant] });
    setTimeout(() => {}, 20_000); // keeps the child up until the test has read its stderr
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const reader = child.stderr.getReader();
  const deadline = Date.now() + 15_000;
  try {
    while (!text.includes("neither can finish") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
  } finally {
    child.kill();
    await reader.cancel();
    await child.status;
  }
  assert.match(
    text,
    /configure\(\) was called from inside configure\(\) and has waited 5 s for it: if configure\(\) is waiting for the caller \(a plugin's create\(\) or start\(\) awaiting configure\(\)\), neither can finish/,
  );
});

Deno.test("a source's loop started inside configure() may call shutdown() while configure() is still running", async () => {
  let later: Promise<void> | undefined;
  const looping = definePlugin({
    kind: "source",
    type: "test_shuts_down",
    description: "Calls shutdown() from a loop it started (tests).",
    options: s.object({}),
    create: () => ({
      start() {
        // Not awaited by start(): it waits its turn behind configure(), which does not wait for it.
        later = Promise.resolve().then(() => shutdown());
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    }),
  });
  const name = `mem-${crypto.randomUUID()}`;
  await configure({
    sources: { app: { type: "logger" }, loop: { type: "test_shuts_down" } },
    sinks: { [name]: { type: "memory", inputs: ["app", "loop"] } },
  }, { plugins: [looping] });
  await later;
  assert.equal(currentPipeline(), undefined, "the loop's shutdown() ran after configure()");
});

Deno.test("a logger taken before configure() follows every later level change, its children too", async () => {
  const log = getLogger("retune");
  const child = log.child({ request: 7 });
  await withMemory({ "": "warn" }, async (records) => {
    log.debug("hidden-1");
    child.info("hidden-2");
    assert.equal(log.debug, child.trace, "disabled levels share one empty method");
    log.setLevel("debug");
    log.debug("shown-1");
    child.info("shown-2");
    log.trace("hidden-3");
    log.setLevel("notset");
    child.info("hidden-4");
    child.error("shown-3");
    await shutdown();
    assert.deepEqual(records.map((r) => r.message), ["shown-1", "shown-2", "shown-3"]);
    assert.deepEqual(records[1]!.fields, { request: 7 });
    assert.ok(child instanceof Logger);
    assert.equal(Deno.inspect(child), "Logger {}", "inspected as what it is");
    const keys: string[] = [];
    for (const key in child) keys.push(key);
    assert.deepEqual(keys, [], "no enumerable methods");
  });
});

Deno.test("warning() is Python's name for warn(): same level, same gate", async () => {
  await configure({
    loggers: { "": "warning" },
    sources: { app: { type: "logger" } },
    sinks: { mem: { type: "memory", name: "warning-alias" } },
  });
  const log = getLogger("py.user");
  log.warning("disk low", { free: 3 });
  log.info("below the gate");
  await shutdown();
  const records = memoryRecords("warning-alias");
  assert.equal(records.length, 1);
  assert.equal(records[0]!.level, 30);
  assert.deepEqual(records[0]!.fields, { free: 3 });
});

Deno.test("caller: true puts the user's line on records, inherited down the hierarchy like the level", async () => {
  await configure({
    loggers: { "": { level: "info", caller: true }, "quiet": { caller: false } },
    sources: { app: { type: "logger" } },
    sinks: { mem: { type: "memory", name: "caller-sites" } },
  });
  function checkout() {
    getLogger("shop.cart").info("paid"); // the line the record must point at
    getLogger("shop.cart").warning("late");
  }
  checkout();
  getLogger("quiet.db").info("no site");
  await shutdown();
  const [paid, late, quiet] = memoryRecords("caller-sites");
  const source = await Deno.readTextFile(new URL(import.meta.url));
  const lines = source.split("\n");
  const line = lines.findIndex((l) => l.includes("the line the record must point at"));
  assert.deepEqual(paid!.caller, {
    file: new URL(import.meta.url).pathname,
    line: line + 1,
    column: lines[line]!.indexOf("info(") + 1, // V8 points at the method name
    function: "checkout",
    module: "logger_test",
  });
  assert.equal(late!.caller?.line, line + 2);
  assert.equal(quiet!.caller, undefined, "caller: false below the root turns it off");
});

Deno.test("log(level) passes records at and above the gate, not below, custom levels such as 25 included", async () => {
  await withMemory({ "": "warn", custom: 25 }, async (records) => {
    const warn = getLogger("gate.warn");
    warn.log(29, "below warn");
    warn.log(30, "at warn");
    warn.log(31, "above warn");
    const custom = getLogger("custom");
    custom.log(24, "below 25");
    custom.log(25, "at 25");
    custom.log(26, "above 25");
    custom.log(Level.ERROR, new Error("an error at 40"));
    assert.equal(custom.isEnabled(25), true);
    assert.equal(custom.isEnabled(24), false);
    await shutdown();
    assert.deepEqual(
      records.map((r) => [r.logger, r.level, r.message]),
      [
        ["gate.warn", 30, "at warn"],
        ["gate.warn", 31, "above warn"],
        ["custom", 25, "at 25"],
        ["custom", 26, "above 25"],
        ["custom", 40, "an error at 40"],
      ],
    );
    assert.equal(records[4]!.error?.message, "an error at 40");
  });
});

Deno.test("tagged templates: the message is the template with its values, the values are fields", async () => {
  await configure({
    loggers: { "": { level: "info", caller: true } },
    sources: { app: { type: "logger" } },
    sinks: { mem: { type: "memory", name: "templates" } },
  });
  const log = getLogger("shop");
  const id = 42, amount = 12.5;
  log.info`user ${id} paid ${amount}`; // template call site
  log.warning`order ${{ order: "A-17" }} late by ${{ minutes: 3 }} for ${{ user: "ada" }}`;
  log.error`charge ${{ order: "A-18" }} failed: ${new Error("card declined")}`;
  log.info`an object ${{ a: 1, b: [2] }}, null ${null}, a date ${new Date(0)}`;
  log.child({ shop: "eu" }).info`bound ${1} lazy ${{ sql: () => "SELECT 1" }}`;
  log.debug`below the gate ${{ never: () => assert.fail("a disabled call built its record") }}`;
  await shutdown();
  const [paid, late, failed, shapes, bound, ...rest] = memoryRecords("templates");
  assert.equal(rest.length, 0);
  assert.equal(paid!.message, "user 42 paid 12.5");
  assert.deepEqual(paid!.fields, { args: [42, 12.5] });
  const lines = (await Deno.readTextFile(new URL(import.meta.url))).split("\n");
  assert.equal(paid!.caller?.line, lines.findIndex((l) => l.includes("// template call site")) + 1);
  assert.equal(paid!.caller?.module, "logger_test");
  assert.equal(late!.level, 30);
  assert.equal(late!.message, "order A-17 late by 3 for ada");
  assert.deepEqual(late!.fields, { order: "A-17", minutes: 3, user: "ada" });
  assert.equal(failed!.message, "charge A-18 failed: card declined");
  assert.equal(failed!.error?.message, "card declined");
  assert.equal(failed!.fields.order, "A-18");
  assert.equal((failed!.fields.args as { message: string }[])[0]!.message, "card declined");
  assert.equal(
    shapes!.message,
    'an object {"a":1,"b":[2]}, null null, a date 1970-01-01T00:00:00.000Z',
  );
  assert.equal(bound!.message, "bound 1 lazy SELECT 1");
  assert.deepEqual(bound!.fields, { shop: "eu", sql: "SELECT 1", args: [1] });
});

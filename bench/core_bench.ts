/**
 * Micro-benchmarks of the in-process path (`deno task bench`): a disabled call, an enabled
 * call through the JSON formatter into a file sink, and each formatter alone.
 *
 * The last bench ("teardown") flushes the file sink, then checks that the file holds exactly
 * one line per enabled call made during the run: a call counted here reached the file. Its
 * time is not a measurement (Deno runs it more than once; later runs return at once).
 *
 * @module
 */

import { join } from "node:path";
import { configure, createRecord, flush, getLogger, shutdown } from "../mod.ts";
import { createBuiltin } from "./builtin.ts";

const dir = Deno.makeTempDirSync({ prefix: "sluice_core_bench_" });
const path = join(dir, "app.log");

await configure({
  loggers: { "": "info" },
  sources: { app: { type: "logger" } },
  sinks: { file: { type: "file", path, format: "json", level: "info" } },
});

const log = getLogger("bench.core");
let enabledCalls = 0;

const record = createRecord({
  level: 20,
  logger: "bench.core",
  message: "request handled",
  fields: { method: "GET", path: "/api/users/42", status: 200, duration_ms: 12.5 },
});
const json = createBuiltin("formatter", "json");
const text = createBuiltin("formatter", "text");
let sink = 0;
let tornDown = false;

Deno.bench({
  name: "disabled debug call",
  group: "calls",
  fn() {
    log.debug("not built", { id: 1 });
  },
});

Deno.bench({
  name: "disabled debug tagged template, 2 values",
  group: "calls",
  fn() {
    log.debug`user ${42} paid ${12.5}`;
  },
});

Deno.bench({
  name: "enabled info call, 4 fields -> json -> file sink",
  group: "calls",
  fn() {
    log.info("request handled", {
      method: "GET",
      path: "/api/users/42",
      status: 200,
      duration_ms: 12.5,
    });
    enabledCalls++;
  },
});

Deno.bench({
  name: "1,000 enabled info calls, then flush() until on disk",
  group: "to disk",
  async fn(b) {
    b.start();
    for (let i = 0; i < 1000; i++) {
      log.info("request handled", { method: "GET", path: "/api/users/42", status: 200, id: i });
    }
    await flush();
    b.end();
    enabledCalls += 1000;
  },
});

Deno.bench({
  name: "json formatter alone, 4 fields",
  group: "formatters",
  baseline: true,
  fn() {
    sink += (json(record) as string).length;
  },
});

Deno.bench({
  name: "text formatter alone, 4 fields",
  group: "formatters",
  fn() {
    sink += (text(record) as string).length;
  },
});

Deno.bench({
  name: "teardown: flush, check every enabled call is in the file (time not meaningful)",
  group: "teardown",
  n: 1,
  warmup: 0,
  async fn() {
    // Deno may call a bench function more than `n` times; the checks run once.
    if (tornDown) return;
    tornDown = true;
    try {
      const flushed = await flush(60_000);
      if (!flushed) throw new Error("flush() did not complete within 60 s");
      const bytes = Deno.readFileSync(path);
      let lines = 0;
      for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) lines++;
      if (lines !== enabledCalls) {
        throw new Error(`File holds ${lines} lines but ${enabledCalls} enabled calls were made`);
      }
      if (sink === 0) throw new Error("Formatters produced nothing");
    } finally {
      await shutdown();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

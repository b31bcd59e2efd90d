/**
 * `rotating_file` against `file` on the same records (`deno task bench`): the cost of size
 * checks, rotation between records, retention and background gzip. The goal is under 10%
 * over `file`. Each iteration writes 20 batches of 1,000 JSON records (about 2.7 MB), so that
 * the 1 MiB variants rotate two or three times per iteration. On a shared machine compare the
 * `min` column: the average swings with other load.
 *
 * @module
 */

import { join } from "node:path";
import {
  createRecord,
  loadBuiltins,
  type LogRecord,
  type PluginContext,
  type Sink,
} from "../mod.ts";
import type { PluginDefinition } from "../src/plugin/types.ts";

const builtins = await loadBuiltins();

const dir = Deno.makeTempDirSync({ prefix: "sluice_rotating_bench_" });

const json = builtins.find((p) => p.kind === "formatter" && p.type === "json")!;

function sink(type: string, options: Record<string, unknown>): Sink {
  const definition = builtins.find((p) => p.kind === "sink" && p.type === type) as
    | PluginDefinition<"sink">
    | undefined;
  if (!definition) throw new Error(`Sink "${type}" is not a built-in`);
  const ctx = { issues: [] };
  const parsed = definition.options.parse(options, [], ctx);
  if (!parsed || ctx.issues.length) throw new Error(JSON.stringify(ctx.issues));
  const context: PluginContext = {
    id: `bench_${type}`,
    baseDir: dir,
    dataDir: dir,
    createFormatter: () => json.create({ time: "iso", level: "name" }, context) as never,
    counter: () => ({ inc() {}, value: 0 }),
    log: { warnOnce() {}, info() {} },
    signal: new AbortController().signal,
  };
  return definition.create(parsed, context) as Sink;
}

const batch: LogRecord[] = [];
for (let i = 0; i < 1000; i++) {
  batch.push(createRecord({
    logger: "bench.rotate",
    message: `request handled in ${i} ms`,
    fields: { user: "ada", route: "/api/orders", status: 200 },
  }));
}

const plain = sink("file", { path: join(dir, "plain.log") });
const bySize = sink("rotating_file", {
  path: join(dir, "size.log"),
  max_bytes: "1MiB",
  backups: 3,
});
const byTime = sink("rotating_file", {
  path: join(dir, "time.log"),
  when: "midnight",
  max_bytes: "1MiB",
  backups: 3,
});
const big = sink("rotating_file", { path: join(dir, "big.log"), max_bytes: "10MiB", backups: 3 });
const gzip = sink("rotating_file", {
  path: join(dir, "gzip.log"),
  max_bytes: "1MiB",
  backups: 3,
  compress: "gzip",
});

Deno.bench({ name: "file", group: "20,000 records", baseline: true, n: 30 }, () => {
  for (let i = 0; i < 20; i++) plain.writeSync!(batch);
});
Deno.bench({ name: "rotating_file max_bytes 1MiB", group: "20,000 records", n: 30 }, () => {
  for (let i = 0; i < 20; i++) bySize.writeSync!(batch);
});
Deno.bench({ name: "rotating_file max_bytes 10MiB", group: "20,000 records", n: 30 }, () => {
  for (let i = 0; i < 20; i++) big.writeSync!(batch);
});
Deno.bench({ name: "rotating_file midnight + 1MiB", group: "20,000 records", n: 30 }, () => {
  for (let i = 0; i < 20; i++) byTime.writeSync!(batch);
});
Deno.bench(
  { name: "rotating_file 1MiB + gzip", group: "20,000 records", n: 30 },
  () => {
    for (let i = 0; i < 20; i++) gzip.writeSync!(batch);
  },
);

// Close the files and remove the directory when the bench process ends (pending background
// compressions are abandoned; a restart would pick them up).
globalThis.addEventListener("unload", () => {
  for (const s of [plain, bySize, big, byTime, gzip]) void s[Symbol.asyncDispose]();
  Deno.removeSync(dir, { recursive: true });
});

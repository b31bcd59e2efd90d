import assert from "node:assert/strict";
import { createRecord, loadConfig, type LogRecord, Pipeline } from "../../../mod.ts";

for (const type of ["file", "rotating_file"]) {
  Deno.test(`${type}: an output file another program deletes is noticed on the next batch and reopened, nothing lost`, async () => {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/app.log`;
    try {
      const { config, formatters } = await loadConfig({
        sources: { app: { type: "logger" } },
        sinks: { out: { type, path, format: { type: "text", pattern: "{message}" } } },
      });
      const pipeline = await Pipeline.create(config, { formatters });
      await pipeline.start();
      const sink = pipeline.sinks.get("out") as unknown as { push(r: LogRecord, l: boolean): void };
      const log = (from: number, to: number) => {
        for (let i = from; i < to; i++) sink.push(createRecord({ message: `r${i}` }), true);
      };
      try {
        log(0, 100);
        assert.ok(await pipeline.flush());
        await Deno.remove(path); // as `rm app.log` would, well within a second of the last write
        log(100, 200);
        assert.ok(await pipeline.flush());
        const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
        assert.deepEqual(lines, Array.from({ length: 100 }, (_, i) => `r${100 + i}`));
        const sum = (name: string) => pipeline.metrics.sum(name, { component: "out" });
        assert.equal(sum("file_reopens_total"), 1);
        assert.equal(sum("records_out_total"), 200);
      } finally {
        await pipeline.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

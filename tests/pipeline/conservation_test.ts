import assert from "node:assert/strict";
import { configure, getLogger, shutdown } from "../../mod.ts";

Deno.test("conservation: 1,000,000 records through a logger into a file sink are all on disk after shutdown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/logs/app.log`;
    await configure({
      sources: { app: { type: "logger" } },
      sinks: { file: { type: "file", path, format: "json" } },
    });
    const log = getLogger("bulk");
    for (let i = 0; i < 1_000_000; i++) log.info("record", { id: i });
    await shutdown();
    const text = await Deno.readTextFile(path);
    const lines = text.split("\n");
    assert.equal(lines.pop(), "", "the file ends with a newline");
    assert.equal(lines.length, 1_000_000);
    const ids = new Set<number>();
    for (const line of lines) ids.add(JSON.parse(line).id);
    assert.equal(ids.size, 1_000_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink counts the bytes it wrote in /metrics", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/app.log`;
    const pipeline = await configure({
      sources: { app: { type: "logger" } },
      sinks: { file: { type: "file", path, format: "logfmt" } },
    });
    for (let i = 0; i < 100; i++) getLogger("bytes").info("record", { i });
    await pipeline.flush();
    const size = (await Deno.stat(path)).size;
    assert.ok(size > 0);
    assert.equal(pipeline.metrics.sum("bytes_written_total", { component: "file" }), size);
    assert.match(
      pipeline.metrics.render(),
      new RegExp(`sluice_bytes_written_total\\{component="file"\\} ${size}`),
    );
    await shutdown();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sink used only as a fallback receives no source records directly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await configure({
      sources: { app: { type: "logger" } },
      sinks: {
        main: { type: "file", path: `${dir}/main.log`, fallback: "spill" },
        spill: { type: "file", path: `${dir}/spill.log` },
      },
    });
    getLogger("fb").info("one");
    await shutdown();
    assert.equal((await Deno.readTextFile(`${dir}/main.log`)).trim().split("\n").length, 1);
    assert.equal(await Deno.readTextFile(`${dir}/spill.log`), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

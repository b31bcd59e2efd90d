import assert from "node:assert/strict";
import { configure, getLogger, memoryRecords, shutdown } from "../../mod.ts";
import { Reloader } from "../../src/cli/reloader.ts";

async function withConfig(
  text: string,
  fn: (file: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_reloader_" });
  try {
    await Deno.writeTextFile(`${dir}/sluice.yaml`, text);
    await fn(`${dir}/sluice.yaml`, dir);
  } finally {
    await shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` with console.error captured. */
async function stderrOf(fn: () => Promise<unknown>): Promise<string> {
  const original = console.error;
  const lines: string[] = [];
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return lines.join("\n");
}

Deno.test("a reload that cannot create a sink keeps the running pipeline and says why", async () => {
  const config = "sources:\n  app: { type: logger }\nsinks:\n  mem: { type: memory }\n";
  await withConfig(config, async (file, dir) => {
    const pipeline = await configure(file);
    const reloader = new Reloader({ file, env: {}, pipeline, waitMs: 1000 });
    // Valid YAML, but its file sink's directory is a file: create() fails.
    await Deno.writeTextFile(`${dir}/blocker`, "");
    await Deno.writeTextFile(file, "sinks:\n  out: { type: file, path: blocker/app.log }\n");
    let reloaded = true;
    const said = await stderrOf(async () => reloaded = await reloader.reload());
    assert.equal(reloaded, false);
    assert.equal(reloader.pipeline, pipeline);
    assert.match(
      said,
      /SIGHUP: .*sluice\.yaml not reloaded, the running pipeline goes on: .*"out"/,
    );
    assert.equal(pipeline.metrics.sum("internal_warnings_total", { key: "run:reload" }), 1);
    // Still running: its memory sink takes what is logged.
    getLogger("after").info("still here");
    await reloader.pipeline.flush(1000);
    assert.ok(memoryRecords("mem").some((r) => r.message === "still here"));
  });
});

Deno.test("a config with a disk-buffered sink is not swapped while running", async () => {
  await withConfig(
    "data_dir: state\nsinks:\n  mem: { type: memory }\n",
    async (file) => {
      const pipeline = await configure(file);
      const reloader = new Reloader({ file, env: {}, pipeline, waitMs: 1000 });
      await Deno.writeTextFile(
        file,
        "data_dir: state\nsinks:\n  mem: { type: memory, buffer: { type: disk } }\n",
      );
      const said = await stderrOf(async () => assert.equal(await reloader.reload(), false));
      assert.match(said, /sink "mem" has a disk buffer, whose files two pipelines must not share/);
      assert.equal(reloader.pipeline, pipeline);
      // A good config after it is swapped in.
      await Deno.writeTextFile(file, "sinks:\n  mem2: { type: memory }\n");
      assert.equal(await reloader.reload(), true);
      assert.notEqual(reloader.pipeline, pipeline);
      assert.ok(reloader.pipeline.sinks.has("mem2"));
    },
  );
});

Deno.test("a reload that changes server.listen says the server keeps its address", async () => {
  const server = (listen: string) =>
    `server: { listen: "${listen}" }\nsources:\n  ingest: { type: http }\n` +
    "sinks:\n  mem: { type: memory }\n";
  await withConfig(server("127.0.0.1:0"), async (file) => {
    const pipeline = await configure(file);
    const reloader = new Reloader({ file, env: {}, pipeline, waitMs: 1000 });
    reloader.serving = "127.0.0.1:41234";
    await Deno.writeTextFile(file, server("127.0.0.1:9"));
    assert.equal(await reloader.reload(), true);
    const warned = reloader.pipeline.metrics.sum("internal_warnings_total", {
      key: "run:reload:listen",
    });
    assert.equal(warned, 1);
  });
});

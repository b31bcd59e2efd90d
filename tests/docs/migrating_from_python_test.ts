import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/load.ts";

Deno.test("the dictConfig migration guide's YAML is a valid config with shared formatters", async () => {
  const guide = await Deno.readTextFile(
    new URL("../../docs/migrating_from_python.md", import.meta.url),
  );
  const yaml = /```yaml\n([\s\S]*?)```/.exec(guide)![1]!;
  const dir = await Deno.makeTempDir();
  try {
    const { config } = await parseConfigText(yaml, "migrating_from_python.md", { baseDir: dir });
    check(config);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function check(config: Awaited<ReturnType<typeof parseConfigText>>["config"]): void {
  assert.equal(config.loggers.noisy?.propagate, false);
  assert.equal(config.sinks.file?.options.max_bytes, 1024 * 1024);
  const console = config.sinks.console!.options.format as { options: { defaults: unknown } };
  assert.deepEqual(console.options.defaults, { request_id: "NO_REQUEST" });
}

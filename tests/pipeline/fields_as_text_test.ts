import assert from "node:assert/strict";
import { join } from "node:path";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import type { SourceContext } from "../../src/plugin/types.ts";
import { s } from "../../src/schema/schema.ts";
import { startPipeline } from "../helpers/net_pipeline.ts";

// A JSON line source reads lines in blocks (JsonBlockReader) only when every component it feeds writes
// the kept text: a file sink with the json formatter's default keys and a memory buffer.

const seen = new Map<string, SourceContext>();
const probe = definePlugin({
  kind: "source",
  type: "probe",
  description: "Keeps its context (for tests).",
  options: s.object({}),
  create(_options, context) {
    seen.set(context.id, context);
    return { start() {}, [Symbol.asyncDispose]: () => Promise.resolve() };
  },
});

Deno.test("SourceContext.fieldsAsText: true only when every target writes kept JSON text", async () => {
  const dir = await Deno.makeTempDir();
  const file = (name: string, format: unknown, extra: Record<string, unknown> = {}) => ({
    type: "file",
    path: join(dir, `${name}.log`),
    format,
    ...extra,
  });
  const pipeline = await startPipeline({
    data_dir: join(dir, "data"),
    sources: {
      json: { type: "probe" },
      two: { type: "probe" },
      logfmt: { type: "probe" },
      renamed: { type: "probe" },
      processed: { type: "probe" },
      disk: { type: "probe" },
    },
    processors: { keep: { type: "filter", inputs: ["processed"], level: "info" } },
    sinks: {
      a: { ...file("a", "json"), inputs: ["json", "two"] },
      b: { ...file("b", "json"), inputs: ["two"] },
      c: { ...file("c", "logfmt"), inputs: ["logfmt"] },
      d: { ...file("d", { type: "json", keys: { message: "msg" } }), inputs: ["renamed"] },
      e: { ...file("e", "json"), inputs: ["keep"] },
      f: { ...file("f", "json", { buffer: { type: "disk" } }), inputs: ["disk"] },
    },
  }, [probe]);
  try {
    const expected: Record<string, boolean> = {
      json: true,
      two: true,
      logfmt: false,
      renamed: false,
      processed: false,
      disk: false,
    };
    for (const [id, want] of Object.entries(expected)) {
      assert.equal(seen.get(id)?.fieldsAsText, want, id);
    }
  } finally {
    await pipeline.shutdown(1000);
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import {
  configure,
  definePlugin,
  getLogger,
  type LogRecord,
  memoryRecords,
  s,
  shutdown,
} from "../../mod.ts";

Deno.test("a processor that returns something other than a record is counted as failing; the log call does not throw", async () => {
  // A message taken from a field that turns out to be missing: `message` is undefined at run time.
  const fromField = definePlugin({
    kind: "processor",
    type: "test_message_from_field",
    description: "Sets the message from a field (tests).",
    options: s.object({}),
    create: () => (record: LogRecord) => ({ ...record, message: record.fields.text as string }),
  });
  const name = `mem-${crypto.randomUUID()}`;
  const pipeline = await configure({
    sources: { app: { type: "logger" } },
    processors: { copy: { type: "test_message_from_field", inputs: ["app"] } },
    sinks: { [name]: { type: "memory", inputs: ["copy"] } },
  }, { plugins: [fromField] });
  try {
    const log = getLogger("proc");
    log.info("kept", { text: "from the field" });
    log.info("lost"); // no `text` field
    await pipeline.flush();
    assert.deepEqual(memoryRecords(name).map((r) => r.message), ["from the field"]);
    assert.equal(
      pipeline.metrics.sum("records_dropped_total", {
        component: "copy",
        reason: "processor_error",
      }),
      1,
    );
    assert.equal(pipeline.metrics.sum("component_errors_total", { component: "copy" }), 1);
  } finally {
    await shutdown();
  }
});

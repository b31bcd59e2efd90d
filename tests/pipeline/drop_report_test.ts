import assert from "node:assert/strict";
import { MOD, runScript } from "../helpers/run_script.ts";

/** Lines of stderr that Sluice wrote about itself. */
const said = (stderr: string) => stderr.split("\n").filter((l) => l.includes(" sluice "));

for (const whenFull of ["drop_newest", "drop_oldest"]) {
  Deno.test(`${whenFull}: the first drop is said once on stderr, flush() and shutdown() say the totals by sink and reason`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { code, stderr } = await runScript(
        `import { configure, flush, getLogger, shutdown } from "${MOD}";
         await configure({
           sources: { app: { type: "logger" } },
           sinks: {
             small: {
               type: "file", path: "out.log",
               buffer: { max_records: 10, when_full: "${whenFull}" },
             },
           },
         });
         const log = getLogger("loop");
         for (let i = 0; i < 100_000; i++) log.info("record", { i });
         await flush();
         for (let i = 0; i < 50; i++) log.info("record", { i });
         await shutdown();`,
        dir,
      );
      assert.equal(code, 0, stderr);
      const lines = said(stderr);
      const first = lines.filter((l) => l.includes("is dropping records"));
      assert.equal(first.length, 1, stderr);
      assert.match(
        first[0]!,
        new RegExp(
          `WARN Sink "small" is dropping records \\(queue_full: its queue is full at max_records 10, when_full ${whenFull}\\)`,
        ),
      );
      // The file sink writes only on its timer, so all but the queue's 10 records are dropped.
      const totals = lines.filter((l) => l.includes("Records dropped so far"));
      assert.deepEqual(
        totals.map((l) => l.replace(/^\S+ /, "")),
        [
          'sluice WARN Records dropped so far: sink "small" 99990 queue_full',
          'sluice WARN Records dropped so far: sink "small" 100030 queue_full',
        ],
        stderr,
      );
      const written = (await Deno.readTextFile(`${dir}/out.log`)).trim().split("\n");
      assert.equal(written.length, 20);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a flush() or shutdown() with nothing dropped says nothing about drops", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await runScript(
      `import { configure, flush, getLogger, shutdown } from "${MOD}";
       await configure({
         sources: { app: { type: "logger" } },
         sinks: { out: { type: "file", path: "out.log" } },
       });
       for (let i = 0; i < 1000; i++) getLogger("loop").info("record");
       await flush();
       await shutdown();`,
      dir,
    );
    assert.equal(code, 0);
    assert.deepEqual(said(stderr), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

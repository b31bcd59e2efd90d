import assert from "node:assert/strict";
import pythonSource from "../../../../plugins/sources/python/mod.ts";
import { memoryRecords } from "../../../../plugins/sinks/memory.ts";
import type { LogRecord } from "../../../../src/core/record.ts";
import {
  counter,
  freePort,
  runPython,
  runPythonStepped,
  startPipeline,
  waitFor,
} from "../../../helpers/net_pipeline.ts";
import { python3, skipWithout } from "../../../helpers/peers.ts";

const SENDER = String.raw`
import logging, logging.handlers, sys, time
port, kind, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

class CopyCreated(logging.Filter):
    """Copies the record's own time into an extra attribute, so the test can compare."""
    def filter(self, record):
        record.created_copy = record.created
        return True

if kind == "tcp":
    handler = logging.handlers.SocketHandler("127.0.0.1", port)
else:
    handler = logging.handlers.DatagramHandler("127.0.0.1", port)
handler.addFilter(CopyCreated())
root = logging.getLogger()
root.setLevel(logging.DEBUG)
root.addHandler(handler)
levels = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
for i in range(n):
    logging.getLogger("app.py.%d" % (i % 3)).log(
        levels[i % 5], "record %d of %s", i, "batch",
        extra={"seq": i, "user": "ada", "ratio": i / 7, "tags": ["a", ("t", 1)],
               "nested": {"k": i, "none": None}, "flag": i % 2 == 0,
               "text": "\u00fcn\u00ef \u2713 \"q\"\n"})
    if kind == "udp" and i % 50 == 49:
        # UDP has no flow control: the test paces the sender (see runPythonStepped).
        print(i + 1, flush=True)
        sys.stdin.readline()
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("app.err").exception("failed %s", "hard", extra={"seq": n})
logging.shutdown()
`;

function checkRecords(records: readonly LogRecord[], n: number): void {
  const bySeq = new Map<number, LogRecord>();
  for (const r of records) {
    const seq = r.fields.seq as number;
    assert.ok(!bySeq.has(seq), `seq ${seq} arrived twice`);
    bySeq.set(seq, r);
  }
  assert.equal(bySeq.size, n + 1);
  for (let i = 0; i < n; i++) {
    const r = bySeq.get(i);
    assert.ok(r, `seq ${i} missing`);
    assert.equal(r.logger, `app.py.${i % 3}`);
    assert.equal(r.level, [10, 20, 30, 40, 50][i % 5]);
    assert.equal(r.message, `record ${i} of batch`);
    assert.equal(r.time, Math.round((r.fields.created_copy as number) * 1000));
    const { python, created_copy: _c, ...extra } = r.fields;
    assert.deepEqual(extra, {
      seq: i,
      user: "ada",
      ratio: i / 7,
      tags: ["a", ["t", 1]],
      nested: { k: i, none: null },
      flag: i % 2 === 0,
      text: 'ünï ✓ "q"\n',
    });
    assert.equal((python as Record<string, unknown>).funcName, "<module>");
    assert.equal(typeof (python as Record<string, unknown>).lineno, "number");
  }
  const failure = bySeq.get(n)!;
  assert.equal(failure.logger, "app.err");
  assert.equal(failure.level, 40);
  assert.equal(failure.message, "failed hard");
  assert.equal(failure.error?.name, "ZeroDivisionError");
  assert.equal(failure.error?.message, "division by zero");
  assert.match(failure.error?.stack ?? "", /^Traceback \(most recent call last\):/);
}

for (const protocol of ["tcp", "udp"] as const) {
  const handler = protocol === "tcp" ? "SocketHandler" : "DatagramHandler";
  Deno.test({
    name:
      `python source receives 10,000 records from a real ${handler} with logger, level, message, time and extra fields intact`,
    ignore: skipWithout(python3()),
    async fn() {
      const port = freePort();
      const store = `python_${protocol}`;
      memoryRecords(store).length = 0;
      const pipeline = await startPipeline({
        sources: { py: { type: "python", address: `127.0.0.1:${port}`, protocol } },
        sinks: { mem: { type: "memory", name: store } },
      }, [pythonSource]);
      try {
        const n = 10_000;
        const result = await runPythonStepped(
          SENDER,
          [String(port), protocol, String(n)],
          (k) =>
            waitFor(
              () => memoryRecords(store).length >= k,
              () => `${memoryRecords(store).length} of the first ${k} records`,
              10_000,
            ),
        );
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stderr, "", "the handler reported no send errors");
        await waitFor(
          () => memoryRecords(store).length >= n + 1,
          () => `${memoryRecords(store).length} of ${n + 1} records`,
        );
        await pipeline.flush();
        checkRecords(memoryRecords(store), n);
        assert.equal(counter(pipeline, "records_rejected_total"), 0);
      } finally {
        await pipeline.shutdown();
        memoryRecords(store).length = 0;
      }
    },
  });
}

Deno.test({
  name:
    "python source rejects a pickle that would call os.system, counts it, runs nothing, and keeps the connection",
  ignore: skipWithout(python3()),
  async fn() {
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const store = "python_evil";
    memoryRecords(store).length = 0;
    const pipeline = await startPipeline({
      sources: { py: { type: "python", address: `127.0.0.1:${port}`, protocol: "tcp" } },
      sinks: { mem: { type: "memory", name: store } },
    }, [pythonSource]);
    try {
      const marker = `${dir}/pwned`;
      // One connection: a good record, the evil frame, another good record.
      const result = await runPython(
        String.raw`
import logging, logging.handlers, os, pickle, socket, struct, sys
class Evil:
    def __reduce__(self):
        return (os.system, ("touch ${marker}",))
handler = logging.handlers.SocketHandler("127.0.0.1", int(sys.argv[1]))
good = lambda msg: logging.LogRecord("evil.test", logging.INFO, "x.py", 1, msg, None, None)
handler.send(handler.makePickle(good("before")))
evil = pickle.dumps({"name": "evil", "msg": Evil()}, 1)
handler.send(struct.pack(">L", len(evil)) + evil)
handler.send(handler.makePickle(good("after")))
handler.close()
`,
        [String(port)],
      );
      assert.equal(result.code, 0, result.stderr);
      await waitFor(
        () =>
          counter(pipeline, "records_rejected_total", { reason: "unsafe_pickle" }) === 1 &&
          memoryRecords(store).length === 2,
        () => `rejections and records: ${memoryRecords(store).length}`,
      );
      await pipeline.flush();
      assert.deepEqual(memoryRecords(store).map((r) => r.message), ["before", "after"]);
      await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
    } finally {
      await pipeline.shutdown();
      memoryRecords(store).length = 0;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

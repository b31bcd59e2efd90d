/**
 * Slide 9, "Asynchronous Logging Implementation": an `AsyncLogger` with a bounded
 * `asyncio.Queue` and a worker task, that prints "Log queue full, dropping message".
 *
 * In Sluice, every sink already works that way: a log call builds the record and queues it
 * for each sink without ever awaiting, and each sink drains its own bounded queue in the
 * background (`buffer.max_records`). What happens when a queue is full is the sink's
 * `when_full`: `block` (the default: back-pressure for ingest, a synchronous write for
 * log calls), `drop_newest` or `drop_oldest`. A drop is never silent: it is counted in
 * `sluice_records_dropped_total{component,reason}` and said once on stderr. One slow sink
 * never holds up another.
 *
 * Here the "slow service" is a loopback HTTP server that takes 100 ms per batch; a file sink
 * beside it gets every record.
 *
 * Run: `deno run -A examples/09_async_logging/main.ts [directory]`
 *
 * @module
 */

import { configure, getLogger } from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-09-" });

let received = 0;
const slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
  received += (await request.text()).split("\n").filter(Boolean).length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  return new Response(null, { status: 204 });
});

{
  // `await using`: the pipeline is drained and shut down at the end of this block.
  await using pipeline = await configure({
    loggers: { async_logger: "info" },
    sources: { app: { type: "logger" } },
    sinks: {
      file: { type: "file", inputs: ["app"], path: `${dir}/async.log` },
      slow_service: {
        type: "http",
        inputs: ["app"],
        url: `http://127.0.0.1:${slow.addr.port}/`,
        batch: { max_records: 10 },
        // queue_size=1000 on the slide; 20 here so that a burst of 100 overflows it.
        buffer: { max_records: 20, when_full: "drop_newest" },
      },
    },
  });

  const logger = getLogger("async_logger");
  const started = performance.now();
  for (let i = 0; i < 100; i++) {
    logger.info(`Async operation ${i} completed at ${new Date().toISOString()}`);
  }
  const perCall = (performance.now() - started) / 100;
  console.log(
    `100 log calls, none awaited: ${perCall < 0.1 ? "under 0.1" : perCall.toFixed(2)} ms each`,
  );

  await pipeline.flush();
  const sum = (name: string, component: string) => pipeline.metrics.sum(name, { component });
  console.log(
    `file: ${sum("records_out_total", "file")} written, ${
      sum("records_dropped_total", "file")
    } dropped`,
  );
  console.log(
    `slow_service: ${sum("records_out_total", "slow_service")} delivered, ` +
      `${sum("records_dropped_total", "slow_service")} dropped (queue_full), ${received} received`,
  );
}
await slow.shutdown();
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output (how many the slow service takes depends on timing; delivered + dropped is 100):
// 100 log calls, none awaited: under 0.1 ms each
// file: 100 written, 0 dropped
// slow_service: 30 delivered, 70 dropped (queue_full), 30 received
// and on stderr, the first drop once and the totals at shutdown:
// … sluice WARN Sink "slow_service" is dropping records (queue_full: its queue is full at max_records 20, when_full drop_newest); …
// … sluice WARN Records dropped so far: sink "slow_service" 70 queue_full

/**
 * What handing parsed records from a Worker to the main thread costs the main thread, per
 * record (issue #18): a Worker parses 100 batches of 1,000 bench/pipeline.ts lines and posts
 * them while the main thread is blocked, so the messages queue; then the main thread takes
 * them and the time from the first to the last is the deserialization (plus dispatch) alone.
 * Three payloads, alternating, medians of `--rounds` (5):
 *
 * - `records`: arrays of parsed records (`recordFromObject`), by structured clone;
 * - `lines`: one string per batch holding each record's formatted JSON line (the json
 *   formatter's output) plus an `Int32Array` of line ends, transferred;
 * - `bytes`: the same lines UTF-8 encoded into one transferred `ArrayBuffer` plus the ends.
 *
 * Beside them, on the main thread, what parsing the same lines costs (`JSON.parse` and
 * `recordFromObject`), so the two can be compared in one run.
 *
 * `deno run -A bench/worker_clone_cost.ts [--rounds 5]`
 *
 * @module
 */

import { inputLine } from "./pipeline/input_line.ts";
import { parseJsonLine } from "../src/parse/record_from_object.ts";
import { loadAverage, median } from "./report.ts";

const BATCHES = 100;
const PER_BATCH = 1000;

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === undefined) {
  const argv = Deno.args;
  const rounds = argv.includes("--rounds") ? Number(argv[argv.indexOf("--rounds") + 1]) : 5;
  const worker = new Worker(import.meta.url, { type: "module" });
  const block = new Int32Array(new SharedArrayBuffer(4));
  const results: Record<string, number[]> = { records: [], lines: [], bytes: [], parse: [] };
  const lines: string[] = [];
  for (let i = 0; i < BATCHES * PER_BATCH; i++) lines.push(inputLine(i).slice(0, -1));
  const once = (kind: string) =>
    new Promise<number>((resolve) => {
      let first = 0;
      let count = 0;
      let sink = 0;
      worker.onmessage = (event) => {
        const data = event.data;
        if (data === "done") {
          resolve((performance.now() - first) * 1000 / (count * PER_BATCH));
          return;
        }
        if (count === 0) first = performance.now();
        count++;
        // Touch what arrived so that nothing is left lazily unread.
        if (kind === "records") {
          sink += (data as { message: string }[])[PER_BATCH - 1]!.message.length;
        } else if (kind === "lines") {
          sink += (data.text as string).length + data.ends[PER_BATCH - 1];
        } else sink += (data.bytes as ArrayBuffer).byteLength + data.ends[PER_BATCH - 1];
        if (sink < 0) console.log(sink);
      };
      worker.postMessage({ kind, block: block.buffer });
      // Blocked while the Worker posts everything, so the messages queue up.
      Atomics.wait(block, 0, 0, 3000);
      Atomics.store(block, 0, 0);
    });
  const parseOnce = () => {
    const start = performance.now();
    let sink = 0;
    for (const line of lines) sink += parseJsonLine(line, 0).message.length;
    if (sink < 0) console.log(sink);
    return (performance.now() - start) * 1000 / lines.length;
  };
  console.log(`load before ${loadAverage()}`);
  await once("records"); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const kind of ["records", "lines", "bytes"]) results[kind]!.push(await once(kind));
    results.parse!.push(parseOnce());
  }
  worker.terminate();
  for (const [kind, list] of Object.entries(results)) {
    console.log(
      `${kind.padEnd(8)} median ${median(list).toFixed(3)} µs/record  (${
        list.map((x) => x.toFixed(3)).join(" / ")
      })`,
    );
  }
  console.log(`load after ${loadAverage()}`);
} else {
  const scope = globalThis as unknown as {
    onmessage: (event: MessageEvent) => void;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  const { createBuiltin } = await import("./builtin.ts");
  const format = createBuiltin("formatter", "json") as (r: unknown) => string;
  const encoder = new TextEncoder();
  const lines: string[] = [];
  for (let i = 0; i < BATCHES * PER_BATCH; i++) lines.push(inputLine(i).slice(0, -1));
  scope.onmessage = (event: MessageEvent) => {
    const { kind, block } = event.data as { kind: string; block: SharedArrayBuffer };
    for (let b = 0; b < BATCHES; b++) {
      const slice = lines.slice(b * PER_BATCH, (b + 1) * PER_BATCH);
      const records = slice.map((line) => parseJsonLine(line, 0));
      if (kind === "records") {
        scope.postMessage(records);
        continue;
      }
      const ends = new Int32Array(PER_BATCH);
      let text = "";
      for (let i = 0; i < PER_BATCH; i++) {
        text += format(records[i]!) + "\n";
        ends[i] = text.length;
      }
      if (kind === "lines") scope.postMessage({ text, ends }, [ends.buffer]);
      else {
        const bytes = encoder.encode(text).buffer;
        scope.postMessage({ bytes, ends }, [bytes, ends.buffer]);
      }
    }
    scope.postMessage("done");
    const flag = new Int32Array(block);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
}

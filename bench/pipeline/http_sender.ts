/**
 * The HTTP sender of `bench/pipeline.ts`: loads the input file, cuts it into NDJSON batches of
 * `--batch` lines (1,000 by default) before the clock starts, then POSTs them to `--url` with
 * `--concurrency` requests in flight (4 by default). A 429 or 503 is retried after 5 ms and
 * counted; any other non-2xx is a failure. Prints `{"event":"start","t":…}` and
 * `{"event":"end","t":…,"batches":…,"retried":…,"failed":…}`.
 *
 * @module
 */

const args = Deno.args;
const arg = (name: string, fallback?: string) => {
  const i = args.indexOf(`--${name}`);
  const value = i === -1 ? fallback : args[i + 1];
  if (value === undefined) throw new Error(`Missing argument --${name}`);
  return value;
};
const url = arg("url");
const input = await Deno.readFile(arg("input"));
const batchLines = Number(arg("batch", "1000"));
const concurrency = Number(arg("concurrency", "4"));
const now = () => performance.timeOrigin + performance.now();

const batches: Uint8Array<ArrayBuffer>[] = [];
let start = 0;
let lines = 0;
for (let i = 0; i < input.length; i++) {
  if (input[i] === 10 && ++lines === batchLines) {
    batches.push(input.subarray(start, i + 1));
    start = i + 1;
    lines = 0;
  }
}
if (start < input.length) batches.push(input.subarray(start));

let next = 0;
let retried = 0;
let failed = 0;
let firstFailure = "";

async function worker(): Promise<void> {
  while (next < batches.length) {
    const body = batches[next++]!;
    for (;;) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body,
      });
      const text = await response.text();
      if (response.status === 429 || response.status === 503) {
        retried++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      if (!response.ok) {
        failed++;
        firstFailure ||= `${response.status} ${text.slice(0, 200)}`;
      }
      break;
    }
  }
}

console.log(JSON.stringify({ event: "start", t: now() }));
await Promise.all(Array.from({ length: concurrency }, worker));
console.log(
  JSON.stringify({
    event: "end",
    t: now(),
    batches: batches.length,
    retried,
    failed,
    firstFailure,
  }),
);

/**
 * The physical reference of `bench/peers.ts`: `JSON.stringify` of each record into a 64 KiB
 * buffer, one `writeSync` whenever it fills. No logger at all. Mode: json.
 *
 * @module
 */

import { cpuTime, fieldsOf, MESSAGE, parseArgs, report } from "./common.ts";

const args = parseArgs(Deno.args);
if (args.mode !== "json") throw new Error("The reference only writes JSON");

const file = Deno.openSync(args.out, { append: true, create: true });
const encoder = new TextEncoder();
const buffer = new Uint8Array(64 * 1024);
let used = 0;

function writeAll(bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

const cpuStart = cpuTime();
const start = performance.now();
for (let i = 0; i < args.n; i++) {
  const line =
    JSON.stringify({ time: Date.now(), level: "info", message: MESSAGE, ...fieldsOf(i) }) +
    "\n";
  // A line is ASCII here, so its byte length is its string length; 3x covers any UTF-8.
  if (used + line.length * 3 > buffer.length) {
    writeAll(buffer.subarray(0, used));
    used = 0;
  }
  used += encoder.encodeInto(line, buffer.subarray(used)).written;
}
writeAll(buffer.subarray(0, used));
const elapsed = performance.now() - start;
report(elapsed, args.out, undefined, cpuTime() - cpuStart);
file.close();

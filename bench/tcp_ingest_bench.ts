/**
 * TCP ingest benchmarks (`deno task bench`): NDJSON lines over TCP into a `tcp` source, parsed
 * and written by a `file` sink with the `json` formatter. One iteration sends 20,000 records
 * and ends when the file sink has written all of them, so records per second are 20,000 ×
 * the iterations per second Deno reports. Variants: one connection, four concurrent
 * connections, and RFC 5424 syslog over octet counting into the `syslog` source.
 *
 * The last bench ("teardown") checks that the files hold exactly one line per record sent.
 *
 * @module
 */

import { join } from "node:path";
import { loadConfig, Pipeline } from "../mod.ts";

const RECORDS = 20_000;
const dir = Deno.makeTempDirSync({ prefix: "sluice_tcp_bench_" });
const ports = { ndjson: freePort(), syslog: freePort() };

const { config, formatters } = await loadConfig({
  sources: {
    lines: { type: "tcp", address: `127.0.0.1:${ports.ndjson}`, parser: "json" },
    sys: { type: "syslog", address: `127.0.0.1:${ports.syslog}`, protocol: "tcp" },
  },
  sinks: {
    lines_file: {
      type: "file",
      path: join(dir, "lines.log"),
      format: "json",
      inputs: ["lines"],
      buffer: { max_records: 50_000 },
    },
    sys_file: {
      type: "file",
      path: join(dir, "sys.log"),
      format: "json",
      inputs: ["sys"],
      buffer: { max_records: 50_000 },
    },
  },
});
const pipeline = await Pipeline.create(config, { formatters });
await pipeline.start();

const encoder = new TextEncoder();
const sent = { lines_file: 0, sys_file: 0 };

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function ndjson(count: number, offset: number): Uint8Array {
  let text = "";
  for (let i = 0; i < count; i++) {
    text +=
      `{"time":"2024-06-01T12:00:00.000Z","level":"info","logger":"bench.tcp","message":"request handled","seq":${
        offset + i
      },"path":"/api/orders","status":200,"duration_ms":12.5}\n`;
  }
  return encoder.encode(text);
}

function syslogOctets(count: number): Uint8Array {
  let text = "";
  for (let i = 0; i < count; i++) {
    const msg =
      `<134>1 2024-06-01T12:00:00.000Z web-1 payments 4242 - [fields@32473 seq="${i}" status="200"] request handled`;
    text += `${msg.length} ${msg}`;
  }
  return encoder.encode(text);
}

const payload = ndjson(RECORDS, 0);
const quarter = ndjson(RECORDS / 4, 0);
const syslogPayload = syslogOctets(RECORDS);

async function sendOn(port: number, bytes: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
  conn.close();
}

/** Waits until `sink` has written `target` records in total. */
async function written(sink: keyof typeof sent, target: number): Promise<void> {
  while (pipeline.metrics.sum("records_out_total", { component: sink }) < target) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

Deno.bench("tcp ingest: 20,000 NDJSON records, 1 connection → json file", async () => {
  sent.lines_file += RECORDS;
  await sendOn(ports.ndjson, payload);
  await written("lines_file", sent.lines_file);
});

Deno.bench("tcp ingest: 20,000 NDJSON records, 4 connections → json file", async () => {
  sent.lines_file += RECORDS;
  await Promise.all([0, 1, 2, 3].map(() => sendOn(ports.ndjson, quarter)));
  await written("lines_file", sent.lines_file);
});

Deno.bench(
  "syslog ingest: 20,000 RFC 5424 octet-counted records, 1 connection → json file",
  async () => {
    sent.sys_file += RECORDS;
    await sendOn(ports.syslog, syslogPayload);
    await written("sys_file", sent.sys_file);
  },
);

let tornDown = false;
Deno.bench("teardown (checks every record sent reached its file)", async () => {
  if (tornDown) return;
  tornDown = true;
  await pipeline.shutdown();
  for (const [sink, file] of [["lines_file", "lines.log"], ["sys_file", "sys.log"]] as const) {
    const text = await Deno.readTextFile(join(dir, file));
    const lines = text.split("\n").length - 1;
    if (lines !== sent[sink]) throw new Error(`${file}: ${lines} lines, ${sent[sink]} sent`);
  }
  await Deno.remove(dir, { recursive: true });
});

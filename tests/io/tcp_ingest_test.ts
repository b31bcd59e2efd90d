import assert from "node:assert/strict";
import type { LogRecord } from "../../src/core/record.ts";
import { TcpIngest } from "../../src/io/tcp_ingest.ts";
import { createFrameParser } from "../../src/parse/frame_parser.ts";
import type { SourceContext } from "../../src/plugin/types.ts";

Deno.test("tcp ingest keeps every line in order while a busy connection's read buffer grows from 7 bytes to 4 KiB", async () => {
  const got: LogRecord[] = [];
  const rejected: string[] = [];
  const context = {
    id: "lines",
    emit: (records: LogRecord[]) => {
      got.push(...records);
      return Promise.resolve();
    },
    reject: (reason: string) => rejected.push(reason),
    counter: () => ({ inc() {}, value: 0 }),
    log: { warnOnce() {}, info() {} },
  } as unknown as SourceContext;
  const ingest = new TcpIngest({
    address: { hostname: "127.0.0.1", port: 0 },
    framing: "newline",
    nulDelimiter: false,
    maxFrameBytes: 1024,
    maxConnections: 4,
    idleTimeout: 0,
    rateLimit: 0,
    readBytes: 7,
    maxReadBytes: 4096,
    parse: createFrameParser({ format: "json", invalidUtf8: "reject" }),
  }, context);
  ingest.start();
  try {
    const n = 20_000;
    let text = "";
    for (let i = 0; i < n; i++) text += JSON.stringify({ msg: `line ${i} ✓`, i }) + "\n";
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: ingest.port });
    const bytes = new TextEncoder().encode(text);
    for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
    conn.close();
    const deadline = Date.now() + 20_000;
    while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.length, n);
    assert.deepEqual(rejected, []);
    got.forEach((record, i) => {
      assert.equal(record.fields.i, i);
      assert.equal(record.message, `line ${i} ✓`);
    });
  } finally {
    await ingest[Symbol.asyncDispose]();
  }
});

import assert from "node:assert/strict";
import pythonSource from "../../../plugins/sources/python/mod.ts";
import syslogSource from "../../../plugins/sources/syslog.ts";
import tcpSource from "../../../plugins/sources/tcp.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";
import type { Pipeline } from "../../../src/pipeline/pipeline.ts";
import { counter, freePort, startPipeline, waitFor } from "../../helpers/net_pipeline.ts";

const encoder = new TextEncoder();
const PLUGINS = [tcpSource, syslogSource, pythonSource];

async function writeAll(conn: Deno.Conn, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** A well-behaved client: `n` JSON lines in small steps, on its own connection. */
async function goodClient(port: number, tag: string, n: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (let i = 0; i < n; i += 10) {
      let text = "";
      for (let j = i; j < i + 10; j++) text += JSON.stringify({ msg: tag, seq: j }) + "\n";
      await writeAll(conn, text);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    conn.close();
  }
}

function rejected(pipeline: Pipeline, reason: string): number {
  return counter(pipeline, "records_rejected_total", { reason });
}

Deno.test("bad input: random bytes, a 10 MiB line and invalid UTF-8 are rejected and counted while another connection keeps flowing", async () => {
  const port = freePort();
  const store = "bad_input_tcp";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: { lines: { type: "tcp", address: `127.0.0.1:${port}`, max_line_bytes: "1MiB" } },
    sinks: { mem: { type: "memory", name: store } },
  }, PLUGINS);
  try {
    const rssBefore = Deno.memoryUsage().rss;
    const good = goodClient(port, "good", 1000);

    // 4 MiB of random bytes (with newlines here and there, so there are many frames).
    const random = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < random.length; i += 65_536) {
      crypto.getRandomValues(random.subarray(i, i + 65_536));
    }
    const noise = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(noise, random);
    noise.close();

    // A 10 MiB line, then a valid line on the same connection: the source skips the one and
    // keeps the other.
    const big = await Deno.connect({ hostname: "127.0.0.1", port });
    const chunk = new Uint8Array(1024 * 1024).fill(0x61);
    for (let i = 0; i < 10; i++) await writeAll(big, chunk);
    await writeAll(big, '\n{"msg":"after the big line"}\n');
    // Invalid UTF-8 inside a JSON string, then a valid line.
    await writeAll(
      big,
      new Uint8Array([
        0x7b,
        0x22,
        0x6d,
        0x73,
        0x67,
        0x22,
        0x3a,
        0x22,
        0xc3,
        0x28,
        0x22,
        0x7d,
        0x0a,
      ]),
    );
    await writeAll(big, '{"msg":"still here"}\n');
    big.close();

    await good;
    await waitFor(
      () =>
        memoryRecords(store).filter((r) => r.message === "good").length === 1000 &&
        memoryRecords(store).some((r) => r.message === "still here"),
      () => `${memoryRecords(store).length} records`,
    );
    const rssAfter = Deno.memoryUsage().rss;
    const goodSeqs = memoryRecords(store).filter((r) => r.message === "good").map((r) =>
      r.fields.seq
    );
    assert.deepEqual(
      goodSeqs,
      Array.from({ length: 1000 }, (_, i) => i),
      "the good client lost nothing",
    );
    assert.ok(memoryRecords(store).some((r) => r.message === "after the big line"));
    assert.equal(rejected(pipeline, "frame_too_large"), 1);
    assert.ok(rejected(pipeline, "invalid_utf8") >= 1);
    const noiseRejected = rejected(pipeline, "invalid_json") + rejected(pipeline, "invalid_utf8") +
      rejected(pipeline, "not_an_object");
    assert.ok(noiseRejected > 1000, `random bytes rejected: ${noiseRejected}`);
    console.log(
      `bad input: ${noiseRejected} garbage frames rejected; RSS grew ${
        ((rssAfter - rssBefore) / 1048576).toFixed(1)
      } MiB while 14 MiB of bad input went through`,
    );
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("bad input: a truncated frame and octet counts that lie are rejected and counted; only the broken connection is closed", async () => {
  const port = freePort();
  const store = "bad_input_syslog";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: { sys: { type: "syslog", address: `127.0.0.1:${port}`, protocol: "tcp" } },
    sinks: { mem: { type: "memory", name: store } },
  }, PLUGINS);
  const frame = (text: string) => `${encoder.encode(text).length} ${text}`;
  try {
    // A frame promising 100 bytes on a connection that ends after 12: truncated.
    const truncated = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(truncated, frame("<14>1 - h app - - - first") + "100 <14>1 - h a");
    truncated.close();

    // A count smaller than the message: the rest of the message is read as the next header,
    // which is not a count, so that connection is closed.
    const short = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(
      short,
      frame("<14>1 - h app - - - second") + "5 <14>1 - h app - - - liar" +
        frame("<14>1 - h app - - - never"),
    );
    const closed = await short.read(new Uint8Array(8)).catch(() => null);
    assert.equal(closed, null, "the source closed the broken connection");
    short.close();

    // A count larger than the limit: skipped without being buffered, the stream goes on.
    const huge = await Deno.connect({ hostname: "127.0.0.1", port });
    const body = "<14>1 - h app - - - " + "z".repeat(70 * 1024);
    await writeAll(huge, frame(body) + frame("<14>1 - h app - - - third"));
    huge.close();

    // Meanwhile a good connection keeps flowing.
    const good = await Deno.connect({ hostname: "127.0.0.1", port });
    for (let i = 0; i < 100; i++) await writeAll(good, frame(`<14>1 - h app - - - good ${i}`));
    good.close();

    await waitFor(
      () =>
        memoryRecords(store).filter((r) => r.message.startsWith("good")).length === 100 &&
        rejected(pipeline, "truncated_frame") === 1 &&
        rejected(pipeline, "bad_octet_count") === 1 &&
        rejected(pipeline, "frame_too_large") === 1 &&
        memoryRecords(store).some((r) => r.message === "third"),
      () =>
        `${memoryRecords(store).length} records; ${
          pipeline.metrics.render().split("\n").filter((l) => l.includes("rejected")).join("; ")
        }`,
    );
    const messages = memoryRecords(store).map((r) => r.message);
    assert.ok(messages.includes("first") && messages.includes("second"));
    assert.ok(!messages.includes("never"), "nothing after the broken header is read");
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("bad input: a pickle that would call os.system is rejected and counted, and the connection goes on", async () => {
  const port = freePort();
  const store = "bad_input_pickle";
  memoryRecords(store).length = 0;
  const dir = await Deno.makeTempDir();
  const pipeline = await startPipeline({
    sources: { py: { type: "python", address: `127.0.0.1:${port}` } },
    sinks: { mem: { type: "memory", name: store } },
  }, PLUGINS);
  try {
    const framed = (payload: Uint8Array) => {
      const out = new Uint8Array(4 + payload.length);
      new DataView(out.buffer).setUint32(0, payload.length);
      out.set(payload, 4);
      return out;
    };
    // Protocol 0 by hand: os.system("touch …") through GLOBAL + REDUCE.
    const evil = encoder.encode(`cos\nsystem\n(S'touch ${dir}/pwned'\ntR.`);
    // {"name": "ok", "msg": "fine", "levelno": 20} in protocol 2.
    const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
    const good = bytes(
      "\x80\x02}q\x00(X\x04\x00\x00\x00nameq\x01X\x02\x00\x00\x00okq\x02X\x03\x00\x00\x00msgq\x03X\x04\x00\x00\x00fineq\x04X\x07\x00\x00\x00levelnoq\x05K\x14u.",
    );
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, framed(evil));
    await writeAll(conn, framed(new Uint8Array([0x80, 0x02, 0x7d, 0x99]))); // unknown opcode
    await writeAll(conn, framed(good));
    conn.close();
    await waitFor(
      () =>
        memoryRecords(store).length === 1 && rejected(pipeline, "unsafe_pickle") === 1 &&
        rejected(pipeline, "invalid_pickle") === 1,
      () => `${memoryRecords(store).length} records`,
    );
    assert.equal(memoryRecords(store)[0]!.message, "fine");
    await assert.rejects(Deno.stat(`${dir}/pwned`), Deno.errors.NotFound);
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad input: a flood from one client is rate-limited, rejected and counted while another client's records all arrive", async () => {
  const port = freePort();
  const store = "bad_input_flood";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: { lines: { type: "tcp", address: `127.0.0.1:${port}`, rate_limit: 2000 } },
    sinks: { mem: { type: "memory", name: store } },
  }, PLUGINS);
  try {
    let flooding = true;
    const flood = (async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const line = JSON.stringify({ msg: "flood", pad: "p".repeat(80) }) + "\n";
      const block = encoder.encode(line.repeat(2000));
      let sent = 0;
      try {
        while (flooding) {
          await writeAll(conn, block);
          sent += 2000;
        }
      } finally {
        conn.close();
      }
      return sent;
    })();
    await goodClient(port, "good", 1000);
    flooding = false;
    const sent = await flood;
    await waitFor(
      () => memoryRecords(store).filter((r) => r.message === "good").length === 1000,
      () => `${memoryRecords(store).filter((r) => r.message === "good").length} good records`,
    );
    // Every flood line was either kept (within the rate) or rejected and counted.
    const floodKept = () => memoryRecords(store).filter((r) => r.message === "flood").length;
    await waitFor(
      () => floodKept() + rejected(pipeline, "rate_limited") === sent,
      () => `${floodKept()} kept + ${rejected(pipeline, "rate_limited")} rejected of ${sent}`,
    );
    const limited = rejected(pipeline, "rate_limited");
    assert.ok(limited > floodKept(), "most of the flood was rejected");
    console.log(`flood: sent ${sent}, kept ${floodKept()}, rejected ${limited} (rate_limited)`);
  } finally {
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

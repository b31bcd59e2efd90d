import assert from "node:assert/strict";
import udpSource from "../../../plugins/sources/udp.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";
import { openUdp } from "../../../src/io/udp_socket.ts";
import { parseConfigText } from "../../../src/config/load.ts";
import { counter, freePort, startPipeline, waitFor } from "../../helpers/net_pipeline.ts";

const encoder = new TextEncoder();

Deno.test("udp source reads JSON lines (several per datagram), rejects and counts bad ones", async () => {
  const port = freePort();
  const store = "udp_source_json";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: { dgram: { type: "udp", address: `127.0.0.1:${port}` } },
    sinks: { mem: { type: "memory", name: store } },
  }, [udpSource]);
  const client = await openUdp({ hostname: "127.0.0.1", port: 0 });
  try {
    const target = { hostname: "127.0.0.1", port };
    for (let i = 0; i < 200; i += 2) {
      const text = JSON.stringify({ msg: `m${i}`, level: "error", i }) + "\n" +
        JSON.stringify({ msg: `m${i + 1}`, i: i + 1 }) + "\n";
      await client.send(encoder.encode(text), target);
    }
    await client.send(encoder.encode("not json\n[1,2]\n"), target);
    await client.send(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), target);
    await waitFor(
      () =>
        counter(pipeline, "records_rejected_total") === 3 && memoryRecords(store).length === 200,
      () =>
        `${memoryRecords(store).length} records, ${
          counter(pipeline, "records_rejected_total")
        } rejected`,
    );
    const records = memoryRecords(store);
    assert.deepEqual(records.map((r) => r.fields.i), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(records[0]!.level, 40);
    assert.equal(records[1]!.level, 20);
    assert.equal(counter(pipeline, "records_rejected_total", { reason: "invalid_json" }), 1);
    assert.equal(counter(pipeline, "records_rejected_total", { reason: "not_an_object" }), 1);
    assert.equal(counter(pipeline, "records_rejected_total", { reason: "invalid_utf8" }), 1);
  } finally {
    await client.close();
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("udp source with parser text keeps each line as a message and can replace invalid UTF-8", async () => {
  const port = freePort();
  const store = "udp_source_text";
  memoryRecords(store).length = 0;
  const pipeline = await startPipeline({
    sources: {
      dgram: {
        type: "udp",
        address: `127.0.0.1:${port}`,
        parser: "text",
        invalid_utf8: "replace",
        logger: "edge",
      },
    },
    sinks: { mem: { type: "memory", name: store } },
  }, [udpSource]);
  const client = await openUdp({ hostname: "127.0.0.1", port: 0 });
  try {
    await client.send(encoder.encode("plain line\r\n"), { hostname: "127.0.0.1", port });
    await client.send(new Uint8Array([0x61, 0xff, 0x62]), { hostname: "127.0.0.1", port });
    await waitFor(() => memoryRecords(store).length === 2, () => `${memoryRecords(store).length}`);
    assert.deepEqual(memoryRecords(store).map((r) => [r.logger, r.message]), [
      ["edge", "plain line"],
      ["edge", "a\ufffdb"],
    ]);
  } finally {
    await client.close();
    await pipeline.shutdown();
    memoryRecords(store).length = 0;
  }
});

Deno.test("udp source cannot acknowledge: acknowledgements: true is refused at check time with its path", async () => {
  const yaml =
    "sources:\n  dgram: { type: udp, address: 127.0.0.1:9002, acknowledgements: true }\n" +
    "sinks:\n  out: { type: console }\n";
  const error = await parseConfigText(yaml, "udp.yaml").then(() => undefined, (e: Error) => e);
  assert.ok(error, "the config is refused");
  assert.match(
    error.message,
    /udp\.yaml:2:48: sources\.dgram\.acknowledgements: Unknown key "acknowledgements"/,
  );
});

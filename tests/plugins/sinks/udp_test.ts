import assert from "node:assert/strict";
import syslogFormatter from "../../../plugins/formatters/syslog.ts";
import udpSink from "../../../plugins/sinks/udp.ts";
import { getLogger } from "../../../src/logger/logger.ts";
import { openUdp } from "../../../src/io/udp_socket.ts";
import { counter, freePort, startPipeline, waitFor } from "../../helpers/net_pipeline.ts";
import { skipWithout } from "../../helpers/peers.ts";
import { rsyslogd, startRsyslog } from "../../helpers/rsyslog.ts";

const PLUGINS = [udpSink, syslogFormatter];

Deno.test({
  name:
    "udp sink with the syslog formatter delivers 5,000 records to a real rsyslog, one datagram each, with severity, app name and structured data",
  ignore: skipWithout(rsyslogd()),
  async fn() {
    const port = freePort();
    await using rsyslog = await startRsyslog((dir) =>
      `module(load="imudp")
input(type="imudp" address="127.0.0.1" port="${port}" ruleset="out" rcvbufSize="4m")
template(name="json" type="list" option.jsonf="on") {
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
ruleset(name="out") { action(type="omfile" file="${dir}/out.json" template="json") }`
    );
    const pipeline = await startPipeline({
      sources: { app: { type: "logger" } },
      sinks: {
        dgram: {
          type: "udp",
          address: `127.0.0.1:${port}`,
          format: { type: "syslog", app_name: "checkout", facility: "local3" },
        },
      },
    }, PLUGINS);
    const n = 5000;
    try {
      const log = getLogger("checkout.udp");
      log.setLevel("trace");
      const levels = [10, 20, 30, 40, 50];
      for (let i = 0; i < n; i++) {
        log.log(levels[i % 5]!, `order ${i} ✓`, { seq: i, note: 'q"]\\' });
        // rsyslog reads in its own process; yield now and then so a burst fits its buffer.
        if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(await pipeline.flush(20_000));
      let lines: string[] = [];
      await waitFor(
        async () => (lines = await rsyslog.lines("out.json")).length >= n,
        () => `rsyslog wrote ${lines.length} of ${n} lines\n${rsyslog.output()}`,
        20_000,
      );
      const bySeq = new Map<number, Record<string, string>>();
      for (const line of lines) {
        const got = JSON.parse(line) as Record<string, string>;
        bySeq.set(Number(/seq="(\d+)"/.exec(got.sd!)![1]), got);
      }
      assert.equal(bySeq.size, n);
      for (let i = 0; i < n; i++) {
        const got = bySeq.get(i)!;
        assert.equal(got.severity, ["7", "6", "4", "3", "2"][i % 5]);
        assert.equal(got.app, "checkout");
        assert.equal(got.sd, `[fields@32473 seq="${i}" note="q\\"\\]\\\\" logger="checkout.udp"]`);
        assert.equal(got.msg, `order ${i} ✓`);
      }
    } finally {
      await pipeline.shutdown();
    }
  },
});

Deno.test("udp sink truncates an oversized record at a UTF-8 boundary or drops it, and counts either", async () => {
  const got: Uint8Array[] = [];
  const receiver = await openUdp(
    { hostname: "127.0.0.1", port: 0 },
    (data) => got.push(data.slice()),
  );
  try {
    for (const oversize of ["truncate", "drop"] as const) {
      got.length = 0;
      const pipeline = await startPipeline({
        sources: { app: { type: "logger" } },
        sinks: {
          out: {
            type: "udp",
            address: `127.0.0.1:${receiver.port}`,
            format: { type: "text", pattern: "{message}" },
            max_datagram_bytes: 100,
            oversize,
          },
        },
      }, PLUGINS);
      try {
        const log = getLogger("udp.size");
        log.info("small");
        log.info("é".repeat(60)); // 120 bytes: cut to 50 characters (100 bytes)
        log.info("x" + "é".repeat(60)); // 121 bytes: cut before the split character (99 bytes)
        log.info("last");
        assert.ok(await pipeline.flush());
        const expected = oversize === "truncate" ? 4 : 2;
        await waitFor(() => got.length >= expected, () => `${got.length} datagrams`);
        const texts = got.map((d) => new TextDecoder("utf-8", { fatal: true }).decode(d));
        if (oversize === "truncate") {
          assert.deepEqual(texts, ["small", "é".repeat(50), "x" + "é".repeat(49), "last"]);
          assert.equal(counter(pipeline, "records_truncated_total", { component: "out" }), 2);
        } else {
          assert.deepEqual(texts, ["small", "last"]);
          assert.equal(
            counter(pipeline, "records_dropped_total", { component: "out", reason: "oversize" }),
            2,
          );
        }
      } finally {
        await pipeline.shutdown();
      }
    }
  } finally {
    await receiver.close();
  }
});

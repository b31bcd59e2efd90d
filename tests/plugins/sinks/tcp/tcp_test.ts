import assert from "node:assert/strict";
import syslogFormatter from "../../../../plugins/formatters/syslog.ts";
import tcpSink from "../../../../plugins/sinks/tcp/mod.ts";
import { getLogger } from "../../../../src/logger/logger.ts";
import { counter, freePort, startPipeline, waitFor } from "../../../helpers/net_pipeline.ts";
import { skipWithout } from "../../../helpers/peers.ts";
import { rsyslogd, startRsyslog } from "../../../helpers/rsyslog.ts";

const PLUGINS = [tcpSink, syslogFormatter];

/** rsyslog writes one JSON object per received message with the properties we check. */
const JSON_TEMPLATE = `
template(name="json" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}`;

interface RsyslogRecord {
  severity: string;
  facility: string;
  app: string;
  sd: string;
  msg: string;
}

const LEVELS = [10, 20, 30, 40, 50] as const;
const SEVERITY = { 10: "7", 20: "6", 30: "4", 40: "3", 50: "2" } as const;

/** Logs `n` records through `log`, fields chosen to exercise RFC 5424 escaping. */
function logRecords(name: string, n: number, multiline: boolean): void {
  const log = getLogger(name);
  log.setLevel("trace");
  for (let i = 0; i < n; i++) {
    const level = LEVELS[i % LEVELS.length]!;
    const message = multiline && i % 100 === 0 ? `line one ${i}\nline two` : `record ${i} ünï ✓`;
    log.log(level, message, { seq: i, quote: 'say "hi"', bracket: "a]b", slash: "c\\d" });
  }
}

/** The SD element the syslog formatter writes for record `i` of {@linkcode logRecords}. */
function expectedSd(i: number, logger: string): string {
  return `[fields@32473 seq="${i}" quote="say \\"hi\\"" bracket="a\\]b" slash="c\\\\d" logger="${logger}"]`;
}

for (const framing of ["octet_counting", "newline"] as const) {
  Deno.test({
    name:
      `tcp sink with the syslog formatter delivers 5,000 records to a real rsyslog over ${framing} framing with severity, app name and structured data`,
    ignore: skipWithout(rsyslogd()),
    async fn() {
      const port = freePort();
      await using rsyslog = await startRsyslog((dir) =>
        `module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="out")
${JSON_TEMPLATE}
ruleset(name="out") { action(type="omfile" file="${dir}/out.json" template="json") }`, [port]);
      const pipeline = await startPipeline({
        sources: { app: { type: "logger" } },
        sinks: {
          central: {
            type: "tcp",
            address: `127.0.0.1:${port}`,
            framing,
            format: { type: "syslog", rfc: 5424, app_name: "payments", facility: "local0" },
          },
        },
      }, PLUGINS);
      const n = 5000;
      const logger = `pay.${framing}`;
      try {
        logRecords(logger, n, true);
        assert.ok(await pipeline.flush(20_000), "the sink drained");
        let lines: string[] = [];
        await waitFor(
          async () => (lines = await rsyslog.lines("out.json")).length >= n,
          () => `rsyslog wrote ${lines.length} of ${n} lines\n${rsyslog.output()}`,
          20_000,
        );
        assert.equal(lines.length, n);
        for (let i = 0; i < n; i++) {
          const got = JSON.parse(lines[i]!) as RsyslogRecord;
          const level = LEVELS[i % LEVELS.length]!;
          assert.equal(got.severity, SEVERITY[level], `severity of record ${i}`);
          assert.equal(got.facility, "16");
          assert.equal(got.app, "payments");
          assert.equal(got.sd, expectedSd(i, logger), `structured data of record ${i}`);
          const message = i % 100 === 0
            ? (framing === "octet_counting"
              ? `line one ${i}#012line two` // rsyslog escapes the control character it received
              : `line one ${i}\\nline two`) // newline framing sends the break as \n
            : `record ${i} ünï ✓`;
          assert.equal(got.msg, message, `message of record ${i}`);
        }
        assert.equal(counter(pipeline, "records_out_total", { component: "central" }), n);
      } finally {
        await pipeline.shutdown();
      }
    },
  });
}

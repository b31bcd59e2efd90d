import assert from "node:assert/strict";
import syslogSource from "../../../plugins/sources/syslog.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import {
  counter,
  freePort,
  runPythonStepped,
  startPipeline,
  waitFor,
} from "../../helpers/net_pipeline.ts";
import { findPeer, python3, skipWithout } from "../../helpers/peers.ts";
import { rsyslogd, startRsyslog } from "../../helpers/rsyslog.ts";

const loggerCommand = () =>
  findPeer("logger", ["--version"], "install it with: apt-get install -y bsdutils");

/** Sends lines (`<PRI>text`) to rsyslog with util-linux `logger` over TCP, RFC 5424 and SD. */
async function sendWithLogger(port: number, lines: readonly string[]): Promise<void> {
  const child = new Deno.Command("logger", {
    args: [
      "-n",
      "127.0.0.1",
      "-P",
      String(port),
      "-T",
      "--octet-count",
      "--rfc5424",
      "--prio-prefix",
      "-t",
      "billing",
      "--sd-id",
      "order@32473",
      "--sd-param",
      'id="42"',
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

const SEVERITY_LEVEL = [50, 50, 50, 40, 30, 20, 20, 10];

Deno.test({
  name:
    "syslog source receives every line rsyslog forwards, over TCP octet-counted RFC 5424 and TCP newline RSYSLOG_ForwardFormat, parsed",
  ignore: skipWithout(rsyslogd()) || skipWithout(loggerCommand()),
  async fn() {
    const octetPort = freePort();
    const linePort = freePort();
    const inPort = freePort();
    const store = (id: string) => `syslog_fwd_${id}`;
    for (const id of ["octets", "lines"]) memoryRecords(store(id)).length = 0;
    const pipeline = await startPipeline({
      sources: {
        octets: { type: "syslog", address: `127.0.0.1:${octetPort}`, protocol: "tcp" },
        lines: { type: "syslog", address: `127.0.0.1:${linePort}`, protocol: "tcp" },
      },
      sinks: {
        octets_mem: { type: "memory", name: store("octets"), inputs: ["octets"] },
        lines_mem: { type: "memory", name: store("lines"), inputs: ["lines"] },
      },
    }, [syslogSource]);
    try {
      await using rsyslog = await startRsyslog(() =>
        `module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${inPort}" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="${octetPort}" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
  action(type="omfwd" target="127.0.0.1" port="${linePort}" protocol="tcp"
         template="RSYSLOG_ForwardFormat")
}`, [inPort]);
      const n = 3000;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        lines.push(`<${8 * 16 + (i % 8)}>payment ${i} captured ✓ "quoted" [bracketed]`);
      }
      await sendWithLogger(inPort, lines);
      for (const id of ["octets", "lines"]) {
        await waitFor(
          () => memoryRecords(store(id)).length >= n,
          () => `${id}: ${memoryRecords(store(id)).length} of ${n}\n${rsyslog.output()}`,
        );
      }
      await pipeline.flush();
      for (const id of ["octets", "lines"]) {
        const records: readonly LogRecord[] = memoryRecords(store(id));
        assert.equal(records.length, n, id);
        for (let i = 0; i < n; i++) {
          const r = records[i]!;
          assert.equal(r.message, `payment ${i} captured ✓ "quoted" [bracketed]`, `${id} ${i}`);
          assert.equal(r.logger, "billing");
          assert.equal(r.level, SEVERITY_LEVEL[i % 8]);
          assert.equal(r.fields.facility, "local0");
          assert.equal(typeof r.fields.hostname, "string");
          assert.ok(Math.abs(r.time - Date.now()) < 120_000, "the sender's timestamp");
          if (id === "octets") {
            assert.deepEqual(r.fields["order@32473"], { id: "42" }, "structured data kept");
          }
        }
      }
      assert.equal(counter(pipeline, "records_rejected_total"), 0);
    } finally {
      await pipeline.shutdown();
      for (const id of ["octets", "lines"]) memoryRecords(store(id)).length = 0;
    }
  },
});

Deno.test({
  name: "syslog source receives every line rsyslog forwards over UDP",
  ignore: skipWithout(rsyslogd()) || skipWithout(loggerCommand()),
  async fn() {
    const udpPort = freePort();
    const inPort = freePort();
    const store = "syslog_fwd_udp";
    memoryRecords(store).length = 0;
    const pipeline = await startPipeline({
      sources: { sys: { type: "syslog", address: `127.0.0.1:${udpPort}`, protocol: "udp" } },
      sinks: { mem: { type: "memory", name: store } },
    }, [syslogSource]);
    try {
      await using rsyslog = await startRsyslog(() =>
        `module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${inPort}" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="${udpPort}" protocol="udp"
         template="RSYSLOG_SyslogProtocol23Format")
}`, [inPort]);
      const n = 2000;
      // UDP has no flow control: send in steps of 50 and wait for each step to arrive.
      for (let start = 0; start < n; start += 50) {
        const lines: string[] = [];
        for (let i = start; i < start + 50; i++) lines.push(`<${8 * 3 + (i % 8)}>udp line ${i}`);
        await sendWithLogger(inPort, lines);
        await waitFor(
          () => memoryRecords(store).length >= start + 50,
          () => `${memoryRecords(store).length} of ${start + 50}\n${rsyslog.output()}`,
          10_000,
        );
      }
      await pipeline.flush();
      const records = memoryRecords(store);
      assert.equal(records.length, n);
      const seen = new Set<number>();
      for (const r of records) {
        const i = Number(/^udp line (\d+)$/.exec(r.message)![1]);
        seen.add(i);
        assert.equal(r.level, SEVERITY_LEVEL[i % 8]);
        assert.equal(r.logger, "billing");
        assert.equal(r.fields.facility, "daemon");
        assert.deepEqual(r.fields["order@32473"], { id: "42" });
      }
      assert.equal(seen.size, n);
    } finally {
      await pipeline.shutdown();
      memoryRecords(store).length = 0;
    }
  },
});

const SYSLOG_HANDLER = String.raw`
import json, logging, logging.handlers, socket, sys
port, kind, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

class JsonFormatter(logging.Formatter):
    """What python-json-logger and friends do: the record and its extra fields as JSON."""
    def format(self, record):
        out = {"name": record.name, "levelname": record.levelname,
               "message": record.getMessage(), "time": record.created}
        out.update({k: v for k, v in record.__dict__.items() if k not in STANDARD})
        return json.dumps(out, ensure_ascii=False)

class CopyCreated(logging.Filter):
    def filter(self, record):
        record.created_copy = record.created
        return True

socktype = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
handler = logging.handlers.SysLogHandler(("127.0.0.1", port), facility="local4", socktype=socktype)
handler.ident = "pyapp: "
handler.setFormatter(JsonFormatter())
handler.addFilter(CopyCreated())
root = logging.getLogger()
root.setLevel(logging.DEBUG)
root.addHandler(handler)
levels = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
for i in range(n):
    logging.getLogger("svc.%d" % (i % 4)).log(
        levels[i % 5], "request %d took %.1f ms", i, i / 10,
        extra={"seq": i, "user": "ada", "path": "/a b/\u00e9", "ok": i % 2 == 0, "tags": ["x", "y"]})
    if kind == "udp" and i % 50 == 49:
        print(i + 1, flush=True)
        sys.stdin.readline()
handler.close()
`;

for (const protocol of ["udp", "tcp"] as const) {
  Deno.test({
    name:
      `syslog source receives 10,000 records from a real Python SysLogHandler over ${protocol.toUpperCase()} with logger, level, message, time and extra fields intact`,
    ignore: skipWithout(python3()),
    async fn() {
      const port = freePort();
      const store = `syslog_py_${protocol}`;
      memoryRecords(store).length = 0;
      const pipeline = await startPipeline({
        sources: { sys: { type: "syslog", address: `127.0.0.1:${port}`, protocol } },
        sinks: { mem: { type: "memory", name: store } },
      }, [syslogSource]);
      try {
        const n = 10_000;
        const result = await runPythonStepped(
          SYSLOG_HANDLER,
          [String(port), protocol, String(n)],
          (k) =>
            waitFor(
              () => memoryRecords(store).length >= k,
              () => `${memoryRecords(store).length} of the first ${k}`,
              10_000,
            ),
        );
        assert.equal(result.code, 0, result.stderr);
        await waitFor(
          () => memoryRecords(store).length >= n,
          () => `${memoryRecords(store).length} of ${n}`,
        );
        await pipeline.flush();
        const records = memoryRecords(store);
        assert.equal(records.length, n);
        const seen = new Set<number>();
        for (const r of records) {
          const i = r.fields.seq as number;
          seen.add(i);
          assert.equal(r.logger, `svc.${i % 4}`);
          assert.equal(r.level, [10, 20, 30, 40, 50][i % 5]);
          assert.equal(r.message, `request ${i} took ${(i / 10).toFixed(1)} ms`);
          assert.equal(r.time, Math.round((r.fields.created_copy as number) * 1000));
          assert.equal(r.fields.user, "ada");
          assert.equal(r.fields.path, "/a b/é");
          assert.equal(r.fields.ok, i % 2 === 0);
          assert.deepEqual(r.fields.tags, ["x", "y"]);
          assert.equal(r.fields.facility, "local4");
          assert.equal(r.fields.app_name, "pyapp");
          assert.equal(r.fields.severity, ["debug", "info", "warning", "err", "crit"][i % 5]);
        }
        assert.equal(seen.size, n);
        assert.equal(counter(pipeline, "records_rejected_total"), 0);
      } finally {
        await pipeline.shutdown();
        memoryRecords(store).length = 0;
      }
    },
  });
}

/**
 * A busy main thread must not lose datagrams (issue #13): while Python's SocketHandler streams
 * pickles to a `python` source, SysLogHandler bursts to a `syslog` udp source of the same
 * `sluice run`, and the same bursts to rsyslog's imudp (beside an imtcp stream of the same
 * size) as the yardstick. Sluice must receive no fewer datagrams than rsyslog, and what it
 * did not receive must be in /metrics as kernel drops. And a stopped process (the receiving
 * Worker cannot run) flooded with datagrams counts what the kernel dropped.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startSluice } from "../../helpers/sluice_process.ts";
import { metricValue } from "../../helpers/metric_value.ts";
import { python3, skipWithout } from "../../helpers/peers.ts";
import { rsyslogd, startRsyslog } from "../../helpers/rsyslog.ts";
import { waitFor } from "../../helpers/net_pipeline.ts";

const RECORDS = 5000;
const BURSTS = 10;
const BURST = 200;
const DATAGRAMS = BURSTS * BURST;

/**
 * argv: sluice's python port, sluice's syslog udp port, rsyslog's tcp port, rsyslog's udp
 * port. Two threads stream RECORDS records over TCP (pickles to Sluice, syslog to rsyslog);
 * once they are under way the main thread sends BURSTS bursts of BURST datagrams, 10 ms
 * apart, each datagram to both receivers.
 */
const SENDER = String.raw`
import logging, logging.handlers, socket, sys, threading, time
py_port, udp_port, rs_tcp, rs_udp = (int(a) for a in sys.argv[1:5])
records, bursts, burst = ${RECORDS}, ${BURSTS}, ${BURST}
started = threading.Barrier(3)

def stream(handler):
    log = logging.Logger("stream")
    log.addHandler(handler)
    started.wait()
    for i in range(records):
        log.info("stream record %d with some padding to parse", i, extra={"seq": i, "user": "ada"})
    handler.close()

to_sluice = logging.handlers.SocketHandler("127.0.0.1", py_port)
to_rsyslog = logging.handlers.SysLogHandler(("127.0.0.1", rs_tcp), socktype=socket.SOCK_STREAM)
to_rsyslog.append_nul = False
to_rsyslog.setFormatter(logging.Formatter("%(message)s\n"))
threads = [threading.Thread(target=stream, args=(h,)) for h in (to_sluice, to_rsyslog)]
for t in threads: t.start()

udp = [logging.handlers.SysLogHandler(("127.0.0.1", p)) for p in (udp_port, rs_udp)]
started.wait()
time.sleep(0.02)
for b in range(bursts):
    for i in range(burst):
        record = logging.LogRecord("burst", logging.WARNING, "sender", 0,
                                   "burst datagram %d", (b * burst + i,), None)
        for h in udp: h.emit(record)
    time.sleep(0.01)
for t in threads: t.join()
for h in udp: h.close()
`;

async function lineCount(path: string): Promise<number> {
  try {
    const text = await Deno.readTextFile(path);
    return text.split("\n").filter((l) => l !== "").length;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

function udpPort(): number {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  socket.close();
  return port;
}

function tcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Waits until `count()` reaches `want`, or stops changing for `quietMs`; returns it. */
async function settle(count: () => Promise<number>, want: number, quietMs = 1500) {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await count();
    if (n >= want) return n;
    if (n !== last) [last, since] = [n, Date.now()];
    else if (Date.now() - since > quietMs) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name:
    "a syslog udp source beside a busy python source receives or counts (kernel drops in /metrics) every one of 2,000 bursty datagrams, beside rsyslog's imudp",
  ignore: skipWithout(python3()) || skipWithout(rsyslogd()),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice-udp-busy-" });
    try {
      const [pyPort, sysPort, rsTcp, rsUdp] = [tcpPort(), udpPort(), tcpPort(), udpPort()];
      await using rsyslog = await startRsyslog((rdir) =>
        `module(load="imudp")
module(load="imtcp")
template(name="msg" type="string" string="%msg%\\n")
input(type="imudp" address="127.0.0.1" port="${rsUdp}" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="${rsTcp}" ruleset="tcp")
ruleset(name="udp") { action(type="omfile" file="${rdir}/udp.log" template="msg") }
ruleset(name="tcp") { action(type="omfile" file="${rdir}/tcp.log" template="msg") }`, [rsTcp]);
      const config = join(dir, "sluice.yaml");
      await Deno.writeTextFile(
        config,
        `server: { listen: 127.0.0.1:0 }
sources:
  py: { type: python, address: 127.0.0.1:${pyPort} }
  sys: { type: syslog, address: 127.0.0.1:${sysPort}, protocol: udp }
sinks:
  stream: { type: file, inputs: [py], path: ${join(dir, "tcp.log")}, format: json }
  bursts: { type: file, inputs: [sys], path: ${join(dir, "udp.log")}, format: json }
`,
      );
      const sluice = await startSluice(config);
      try {
        const python = await new Deno.Command(python3().command, {
          args: ["-c", SENDER, ...[pyPort, sysPort, rsTcp, rsUdp].map(String)],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(python.code, 0, new TextDecoder().decode(python.stderr));

        const sluiceTcp = await settle(() => lineCount(join(dir, "tcp.log")), RECORDS, 10_000);
        const rsyslogTcp = await settle(
          () => rsyslog.lines("tcp.log").then((l) => l.length),
          RECORDS,
          10_000,
        );
        assert.equal(sluiceTcp, RECORDS, "every pickle arrived");
        assert.equal(rsyslogTcp, RECORDS, "every TCP syslog line arrived at rsyslog");
        const sluiceUdp = await settle(() => lineCount(join(dir, "udp.log")), DATAGRAMS);
        const rsyslogUdp = await settle(
          () => rsyslog.lines("udp.log").then((l) => l.length),
          DATAGRAMS,
        );
        // What did not arrive is counted: the kernel's drops for the socket (read every second).
        let kernelDrops = 0;
        let rejected = 0;
        await waitFor(
          async () => {
            const text = await (await fetch(`${sluice.url}/metrics`)).text();
            kernelDrops = metricValue(text, "sluice_udp_kernel_drops_total", { component: "sys" });
            rejected = metricValue(text, "sluice_records_rejected_total", { component: "sys" });
            return sluiceUdp + kernelDrops + rejected === DATAGRAMS;
          },
          () => `${sluiceUdp} received, ${kernelDrops} kernel drops, ${rejected} rejected`,
          10_000,
        );
        console.log(
          `datagrams received: sluice ${sluiceUdp} (kernel drops ${kernelDrops}, rejected ${rejected}), rsyslog ${rsyslogUdp}, of ${DATAGRAMS}`,
        );
        // Issue #13's goal: the Worker writing into a shared ring received all 2,000 in 17 of
        // 17 runs at load 2.5–4.7, where rsyslog lost 144 once (bench/RESULTS.md).
        assert.ok(rsyslogUdp > 0);
        assert.ok(
          sluiceUdp >= rsyslogUdp,
          `sluice received ${sluiceUdp} datagrams, fewer than rsyslog's ${rsyslogUdp}`,
        );
      } finally {
        const result = await sluice.stop();
        assert.equal(result.code, 0, result.stderr);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("datagrams the kernel drops while sluice run is stopped are counted in sluice_udp_kernel_drops_total", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-udp-drops-" });
  try {
    const port = udpPort();
    const config = join(dir, "sluice.yaml");
    await Deno.writeTextFile(
      config,
      `server: { listen: 127.0.0.1:0 }
sources:
  sys: { type: syslog, address: 127.0.0.1:${port}, protocol: udp }
sinks:
  out: { type: file, path: ${join(dir, "udp.log")}, format: json }
`,
    );
    const sluice = await startSluice(config);
    const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const n = 3000;
      sluice.signal("SIGSTOP");
      try {
        for (let i = 0; i < n; i++) {
          const line = new TextEncoder().encode(`<12>flood datagram ${i}`);
          await sender.send(line, { transport: "udp", hostname: "127.0.0.1", port });
        }
      } finally {
        sluice.signal("SIGCONT");
      }
      let received = 0;
      let drops = 0;
      await waitFor(
        async () => {
          received = await lineCount(join(dir, "udp.log"));
          const text = await (await fetch(`${sluice.url}/metrics`)).text();
          drops = metricValue(text, "sluice_udp_kernel_drops_total", { component: "sys" });
          return received + drops === n;
        },
        () => `${received} received, ${drops} kernel drops of ${n}`,
        10_000,
      );
      assert.ok(drops > 0, "the socket's receive buffer overflowed while the process was stopped");
      assert.match(sluice.stderr(), /lost datagrams in the kernel/);
    } finally {
      sender.close();
      const result = await sluice.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

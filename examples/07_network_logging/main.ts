/**
 * Slide 7, "Implementing Network-Based Logging": an application that sends its records over
 * TCP (`SocketHandler`) and UDP (`DatagramHandler`) with a local file for warnings, and a
 * server that receives them.
 *
 * In Sluice, both ends are pipelines. The receiving end (the slide's `start_server`) is a
 * `tcp` and a `udp` source, plus a `python` source that reads what Python's own
 * `SocketHandler` sends, with a pickle decoder that never imports or calls anything (the
 * slide's `pickle.loads` on a network socket runs whatever a peer sends). The sending end is a
 * `tcp` and a `udp` sink: a log call never waits for the network, a peer that is down is
 * retried with back-off while records wait in a bounded queue, and `fallback` hands them to a
 * local file when delivery keeps failing.
 *
 * Everything runs on loopback ports chosen at start. When python3 is on PATH, the slide's own
 * handlers send to the `python` source too.
 *
 * Run: `deno run -A examples/07_network_logging/main.ts [directory]`
 *
 * @module
 */

import {
  configure,
  getLogger,
  loadConfig,
  type LogRecord,
  memoryRecords,
  Pipeline,
  shutdown,
} from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-07-" });

/** A free loopback port (bound, then released). */
function freePort(transport: "tcp" | "udp"): number {
  const socket = transport === "tcp"
    ? Deno.listen({ hostname: "127.0.0.1", port: 0 })
    : Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const port = (socket.addr as Deno.NetAddr).port;
  socket.close();
  return port;
}
const [tcpPort, udpPort, pythonPort] = [freePort("tcp"), freePort("udp"), freePort("tcp")];

// The server: three sources, each into its own in-memory sink so we can print by transport.
const server = await loadConfig({
  sources: {
    tcp: { type: "tcp", address: `127.0.0.1:${tcpPort}`, parser: "json" },
    udp: { type: "udp", address: `127.0.0.1:${udpPort}`, parser: "json" },
    python: { type: "python", address: `127.0.0.1:${pythonPort}`, protocol: "tcp" },
  },
  sinks: {
    from_tcp: { type: "memory", inputs: ["tcp"] },
    from_udp: { type: "memory", inputs: ["udp"] },
    from_python: { type: "memory", inputs: ["python"] },
  },
});
await using receiver = await Pipeline.create(server.config, { formatters: server.formatters });
await receiver.start();

// The application: network_logger at INFO, to TCP (info), UDP (debug) and a file (warning).
await configure({
  loggers: { network_logger: "info" },
  sources: { app: { type: "logger" } },
  sinks: {
    tcp: {
      type: "tcp",
      inputs: ["app"],
      address: `127.0.0.1:${tcpPort}`,
      format: "json",
      fallback: "fallback_file", // if the server stays unreachable for fallback_after (30s)
    },
    udp: { type: "udp", inputs: ["app"], address: `127.0.0.1:${udpPort}`, format: "json" },
    fallback_file: {
      type: "file",
      inputs: ["app"],
      level: "warn", // file_handler.setLevel(logging.WARNING)
      path: `${dir}/network_fallback.log`,
      format: { type: "text", pattern: "%(levelname)s - %(message)s" },
    },
  },
});
const logger = getLogger("network_logger");
logger.info("System startup completed");
logger.error(new Error("Connection failed")); // exc_info=True: the Error, with its stack
await shutdown();

// The slide's own Python code, sending to the python source.
let python = "python3 not found: the SocketHandler part is skipped";
try {
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      `
import logging, logging.handlers
logger = logging.getLogger("network_logger")
logger.setLevel(logging.INFO)
logger.addHandler(logging.handlers.SocketHandler("127.0.0.1", ${pythonPort}))
logger.info("System startup completed")
try:
    1 / 0
except ZeroDivisionError:
    logger.error("Connection failed", exc_info=True)
logging.shutdown()
`,
    ],
  }).output();
  python = out.success ? "" : new TextDecoder().decode(out.stderr);
} catch (error) {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

// Wait (bounded) until the server has what was sent.
const expected: Record<string, number> = { from_tcp: 2, from_udp: 2, from_python: python ? 0 : 2 };
const deadline = Date.now() + 10_000;
while (Object.entries(expected).some(([sink, n]) => memoryRecords(sink).length < n)) {
  if (Date.now() > deadline) throw new Error("The server did not receive every record in 10 s");
  await new Promise((resolve) => setTimeout(resolve, 20));
}

const describe = (r: LogRecord) =>
  r.message + (r.error ? ` (${r.error.name}: ${r.error.message})` : "");
for (
  const [sink, transport] of [["from_tcp", "TCP"], ["from_udp", "UDP"], [
    "from_python",
    "Python SocketHandler",
  ]]
) {
  for (const record of memoryRecords(sink!)) {
    console.log(`Received over ${transport}: ${describe(record)}`);
  }
}
if (python) console.log(python.trim());
console.log(
  `--- network_fallback.log:\n${
    (await Deno.readTextFile(`${dir}/network_fallback.log`)).trimEnd()
  }`,
);
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output:
// Received over TCP: System startup completed
// Received over TCP: Connection failed (Error: Connection failed)
// Received over UDP: System startup completed
// Received over UDP: Connection failed (Error: Connection failed)
// Received over Python SocketHandler: System startup completed
// Received over Python SocketHandler: Connection failed (ZeroDivisionError: division by zero)
// --- network_fallback.log:
// ERROR - Connection failed
// Error: Connection failed
//     at file:///…/examples/07_network_logging/main.ts:85:14

/**
 * Idle connections must not lock real senders out of the TCP-listening sources (`tcp`, `syslog`
 * over TCP, `python`): at `max_connections` the longest-idle connection makes way for the new
 * one, counted, and the new sender's records all arrive. Through a real `sluice run`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startSluice } from "../helpers/sluice_process.ts";
import { metricValue } from "../helpers/metric_value.ts";
import { freePort, runPython } from "../helpers/net_pipeline.ts";

const MAX = 40;

async function metrics(url: string): Promise<string> {
  return await (await fetch(`${url}/metrics`)).text();
}

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Writes ten records as a plain TCP sender does: connect, write, close. */
function rawSender(line: (i: number) => string) {
  return async (port: number) => {
    const sender = await Deno.connect({ hostname: "127.0.0.1", port });
    const text = Array.from({ length: 10 }, (_, i) => line(i) + "\n").join("");
    await sender.write(new TextEncoder().encode(text));
    sender.close();
  };
}

/** Sends ten records through Python's logging.handlers.SocketHandler. */
async function pythonSender(port: number): Promise<void> {
  const result = await runPython(
    `import logging, logging.handlers, sys
h = logging.handlers.SocketHandler("127.0.0.1", int(sys.argv[1]))
log = logging.getLogger("app"); log.addHandler(h); log.setLevel(logging.INFO)
for i in range(10): log.info("real sender %d", i)
h.close()`,
    [String(port)],
  );
  assert.equal(result.code, 0, result.stderr);
}

for (
  const [type, extra, send] of [
    ["tcp", "parser: text", rawSender((i) => `real sender ${i}`)],
    [
      "syslog",
      "protocol: tcp",
      rawSender((i) => `<14>1 2026-12-03T10:00:00Z host app - - - real sender ${i}`),
    ],
    ["python", "max_frame_bytes: 1MiB", pythonSender],
  ] as const
) {
  Deno.test(`${type} source: ${MAX} idle clients at max_connections do not lock a real sender out; the idlest is evicted and counted`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-evict-" });
    const port = freePort();
    const out = join(dir, "out.log");
    const config = join(dir, "sluice.yaml");
    await Deno.writeTextFile(
      config,
      `server: { listen: 127.0.0.1:0 }
sources:
  in: { type: ${type}, address: 127.0.0.1:${port}, ${extra}, max_connections: ${MAX} }
sinks:
  out: { type: file, inputs: [in], path: ${out}, format: json }
`,
    );
    const sluice = await startSluice(config);
    const idle: Deno.Conn[] = [];
    try {
      for (let i = 0; i < MAX; i++) idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      await until(
        async () => metricValue(await metrics(sluice.url), "sluice_connections_total") >= MAX,
        `${MAX} accepted connections`,
      );
      await send(port);
      await until(async () => (await lines(out)).length >= 10, "the sender's 10 records", 5_000)
        .catch(() => {});
      const got = await lines(out);
      const text2 = await metrics(sluice.url);
      assert.equal(got.length, 10, `records written: ${got.length}\n${sluice.stderr()}`);
      assert.ok(got.every((l, i) => l.includes(`real sender ${i}`)));
      assert.equal(
        metricValue(text2, "sluice_connections_closed_total", { reason: "evicted" }),
        1,
      );
      assert.equal(
        metricValue(text2, "sluice_records_rejected_total", { reason: "too_many_connections" }),
        0,
      );
      assert.equal(sluice.stderr().match(/closes the longest-idle one/g)?.length, 1);
    } finally {
      for (const c of idle) {
        try {
          c.close();
        } catch {
          // Evicted.
        }
      }
      await sluice.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

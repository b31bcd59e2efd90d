// A value from ${VAR} in run-time diagnostics of a real `sluice run`: a sink that cannot
// connect to a URL holding a password names the variable on stderr and in /ready.
import assert from "node:assert/strict";
import { startSluice } from "../helpers/sluice_process.ts";

const SECRET = "hunter2-SECRET-value";

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("sluice run: a sink failing to connect to a URL with a ${VAR} password names the variable, never the value", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_conceal_" });
  try {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        `data_dir: ${dir}/.sluice`,
        "server: { listen: 127.0.0.1:0 }",
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        "  nats:",
        "    type: nats",
        `    servers: "nats://app:\${NATS_PASSWORD}@127.0.0.1:${closedPort()}"`,
        "    subject: logs",
        "    stream: LOGS",
        "    fallback_after: 1h",
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config, {
      env: { NATS_PASSWORD: SECRET },
      extraArgs: ["--drain-timeout", "500ms"],
    });
    let stderr = "";
    try {
      const posted = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        body: '{"message":"paid"}\n',
      });
      await posted.body?.cancel();
      assert.equal(posted.status, 200);
      let ready: { components?: { problem: string }[] } = {};
      for (let i = 0; i < 100 && !ready.components; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ready = await (await fetch(`${sluice.url}/ready`)).json();
      }
      const problem = ready.components?.[0]?.problem ?? "";
      assert.match(problem, /nats:\/\/app:\$\{NATS_PASSWORD\}@127\.0\.0\.1:\d+/);
      // The same problem in /live's component snapshots (sluice top, the dashboard).
      const live = await fetch(`${sluice.url}/live?events=components&interval=200ms`);
      const reader = live.body!.pipeThrough(new TextDecoderStream()).getReader();
      let stream = "";
      const until = Date.now() + 10_000;
      while (!stream.includes('"problem"') && Date.now() < until) {
        const { value, done } = await reader.read();
        if (done) break;
        stream += value;
      }
      await reader.cancel();
      assert.match(stream, /"problem":"[^"]*nats:\/\/app:\$\{NATS_PASSWORD\}@/);
      assert.ok(!stream.includes("hunter2"), stream);
    } finally {
      stderr = (await sluice.stop()).stderr;
    }
    assert.match(stderr, /Sink "nats" cannot connect to NATS at nats:\/\/app:\$\{NATS_PASSWORD\}@/);
    for (const form of [SECRET, encodeURIComponent(SECRET), "hunter2"]) {
      assert.ok(!stderr.includes(form), stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

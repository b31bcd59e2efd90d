import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import natsSink from "../../../plugins/sinks/nats/mod.ts";
import json from "../../../plugins/formatters/json/mod.ts";
import { createRecord, type LogRecord } from "../../../src/core/record.ts";
import { parseConfigText } from "../../../src/config/load.ts";
import { ConfigError } from "../../../src/config/config_error.ts";
import { createInternalLog } from "../../../src/pipeline/internal_log.ts";
import { Metrics } from "../../../src/pipeline/metrics.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import type { PluginContext, Sink } from "../../../src/plugin/types.ts";
import type { ParseContext } from "../../../src/schema/schema.ts";
import { runCli } from "../../helpers/sluice_process.ts";
import { freePort, natsServerPeer, startNats } from "../../helpers/nats_server.ts";
import { skipWithout } from "../../helpers/peers.ts";

const ignore = skipWithout(natsServerPeer());

function sinkContext(metrics: Metrics, warnings: string[]): PluginContext {
  const context: PluginContext = {
    id: "bus",
    baseDir: Deno.cwd(),
    dataDir: Deno.cwd(),
    signal: new AbortController().signal,
    log: createInternalLog(metrics, (line) => warnings.push(line)),
    createFormatter: () => json.create(json.options.parse({}, [], { issues: [] })!, context),
    counter: (name, help, labels) => metrics.counter(name, help, { component: "bus", ...labels }),
  };
  return context;
}

function options(raw: Record<string, unknown>) {
  const ctx: ParseContext = { issues: [] };
  const parsed = natsSink.options.parse(raw, [], ctx);
  assert.deepEqual(ctx.issues, []);
  return parsed!;
}

/** Every record line in the stream, in order, and the number of messages. */
async function readStream(
  url: string,
  stream: string,
): Promise<{ lines: string[]; messages: number }> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    await jsm.consumers.add(stream, { name: "reader", ack_policy: AckPolicy.None });
    const consumer = await jetstream(nc).consumers.get(stream, "reader");
    const lines: string[] = [];
    let messages = 0;
    while (messages < info.state.messages) {
      const batch = await consumer.fetch({ max_messages: 100, expires: 1000 });
      for await (const m of batch) {
        messages++;
        lines.push(...m.string().split("\n").filter((l) => l !== ""));
      }
    }
    await jsm.consumers.delete(stream, "reader");
    return { lines, messages };
  } finally {
    await nc.close();
  }
}

function records(n: number): LogRecord[] {
  return Array.from(
    { length: n },
    (_, i) => createRecord({ message: `record ${i}`, fields: { i } }),
  );
}

Deno.test({
  name:
    "nats sink: the stream is created from the config, stores every record, and a resent batch is dropped as a duplicate",
  ignore,
  async fn() {
    const server = await startNats();
    const metrics = new Metrics();
    const warnings: string[] = [];
    try {
      const sink = await natsSink.create(
        options({
          servers: [server.url],
          stream: "LOGS",
          subject: "logs.app",
          subjects: ["logs.>"],
          batch: { max_records: 10 },
        }),
        sinkContext(metrics, warnings),
      ) as Sink;
      const batch = records(25);
      await sink.write(batch);
      // Same records again, as the pipeline retries after an acknowledgement that was lost.
      await sink.write(batch);
      await sink[Symbol.asyncDispose]();

      const { lines, messages } = await readStream(server.url, "LOGS");
      assert.equal(messages, 3, "25 records in messages of at most 10");
      assert.deepEqual(
        lines.map((line) => JSON.parse(line).message),
        batch.map((r) => r.message),
      );
      assert.equal(metrics.sum("nats_duplicates_total", { component: "bus" }), 25);
      const nc = await connect({ servers: server.url });
      const info = await (await jetstreamManager(nc)).streams.info("LOGS");
      await nc.close();
      assert.deepEqual(info.config.subjects, ["logs.>"]);
      assert.deepEqual(warnings.map((w) => w.replace(/^\S+ /, "").replace(/:\d+$/, "")), [
        'sluice INFO Sink "bus" created stream "LOGS"',
        'sluice INFO Sink "bus" connected to NATS at 127.0.0.1',
      ]);
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "nats sink: it starts while no server answers, fails writes meanwhile, and delivers once the server is up",
  ignore,
  async fn() {
    const port = freePort();
    const metrics = new Metrics();
    const warnings: string[] = [];
    const sink = await natsSink.create(
      options({ servers: [`nats://127.0.0.1:${port}`], stream: "LOGS", subject: "logs.app" }),
      sinkContext(metrics, warnings),
    ) as Sink;
    let server;
    try {
      await assert.rejects(async () => await sink.write(records(1)), /Not connected to NATS/);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+; retrying/);
      server = await startNats("", port);
      const batch = records(5);
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          await sink.write(batch);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await sink[Symbol.asyncDispose]();
      assert.equal((await readStream(server.url, "LOGS")).lines.length, 5);
    } finally {
      await sink[Symbol.asyncDispose]();
      await server?.stop();
    }
  },
});

Deno.test({
  name:
    "nats sink: an existing stream with other settings than the config's stops the start with both values",
  ignore,
  async fn() {
    const server = await startNats();
    try {
      const nc = await connect({ servers: server.url });
      await (await jetstreamManager(nc)).streams.add({
        name: "LOGS",
        subjects: ["other.>"],
        max_age: 3_600_000 * 1_000_000,
      });
      await nc.close();
      const metrics = new Metrics();
      await assert.rejects(
        async () =>
          await natsSink.create(
            options({ servers: [server.url], stream: "LOGS", subject: "logs.app", max_age: "2h" }),
            sinkContext(metrics, []),
          ),
        (error: unknown) => {
          assert.ok(error instanceof PluginError);
          assert.match(
            error.message,
            /Cannot open sink "bus": Stream "LOGS" exists with max_age 3600000000000 \(the config asks 7200000000000\), subjects \["other\.>"\] \(not "logs\.app"\)/,
          );
          return true;
        },
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test("nats sink: a token written into the config is refused, a ${VAR} one is accepted and not echoed", async () => {
  const yaml = (token: string) => `
sinks:
  bus:
    type: nats
    servers: [nats://127.0.0.1:4222]
    stream: LOGS
    subject: logs.app
    auth: { token: "${token}" }
`;
  await assert.rejects(
    () => parseConfigText(yaml("hunter2-hunter2"), "agent.yaml"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /agent\.yaml:8:\d+.*sinks\.bus\.auth\.token.*A token is written into the config/s,
      );
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
  const { config } = await parseConfigText(yaml("${NATS_TOKEN}"), "agent.yaml", {
    env: { NATS_TOKEN: "hunter2-hunter2" },
  });
  assert.equal(config.sinks.bus?.type, "nats");
  await assert.rejects(
    () =>
      parseConfigText(yaml("${T}").replace("subject: logs.app", "subject: logs.*"), "a.yaml", {
        env: { T: "hunter2-hunter2" },
      }),
    /The subject "logs\.\*" has a wildcard/,
  );
});

Deno.test("nats sink and source: sluice permissions prints every server's host and the credential files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/sluice.yaml`,
      `
sources:
  bus:
    type: nats
    servers: [nats://10.0.0.1:4222, "tls://10.0.0.2:4443"]
    stream: LOGS
    consumer: aggregators
    auth: { creds_file: aggregator.creds }
sinks:
  out: { type: file, inputs: [bus], path: out.log }
  relay: { type: nats, inputs: [bus], servers: [nats://10.0.0.3], stream: COPY, subject: copy.logs }
`,
    );
    const result = await runCli(["permissions", "--config", `${dir}/sluice.yaml`]);
    assert.equal(result.code, 0, result.stderr);
    const net = /--allow-net=(\S+)/.exec(result.stdout)?.[1]?.split(",") ?? [];
    for (const host of ["10.0.0.1:4222", "10.0.0.2:4443", "10.0.0.3:4222"]) {
      assert.ok(net.includes(host), `${host} in ${result.stdout}`);
    }
    // The creds file, or the directory holding it (a directory grants what is below it).
    const read = /--allow-read=(\S+)/.exec(result.stdout)?.[1]?.split(",") ?? [];
    assert.ok(read.some((path) => `${dir}/aggregator.creds`.startsWith(path)), result.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/load.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import type { PluginDefinition } from "../../../src/plugin/types.ts";
import { s } from "../../../src/schema/schema.ts";
import { memoryRecords } from "../../../plugins/sinks/memory.ts";
import stdinSource, {
  createStdinSource,
  type StdinSource,
} from "../../../plugins/sources/stdin.ts";

const encoder = new TextEncoder();

/** The real stdin plugin reading from `chunks` instead of the process's standard input. */
function linesFrom(
  chunks: Iterable<Uint8Array | string> | ReadableStream<Uint8Array>,
  sources: StdinSource[],
) {
  return definePlugin({
    ...stdinSource,
    type: "test_lines",
    create(options, context) {
      const stream = chunks instanceof ReadableStream ? chunks : ReadableStream.from(
        [...chunks].map((c) => typeof c === "string" ? encoder.encode(c) : c),
      );
      const source = createStdinSource(options, context, () => stream);
      sources.push(source);
      return source;
    },
  }) as unknown as PluginDefinition;
}

async function run(
  input: Iterable<Uint8Array | string>,
  options: Record<string, unknown>,
  store: string,
): Promise<{ records: LogRecord[]; pipeline: Pipeline }> {
  const sources: StdinSource[] = [];
  const { config, formatters } = await loadConfig({
    sources: { in: { type: "test_lines", ...options } },
    sinks: { out: { type: "memory", name: store } },
  }, { plugins: [linesFrom(input, sources)] });
  const pipeline = await Pipeline.create(config, { formatters });
  await pipeline.start();
  await sources[0]!.ended;
  await pipeline.shutdown();
  return { records: memoryRecords(store), pipeline };
}

Deno.test("stdin turns JSON object lines into structured records and other lines into text records", async () => {
  const { records } = await run(
    [
      '{"time":"2024-05-01T10:00:00Z","level":"error","logger":"payment.db","message":"timeout","order":7}\n',
      "plain text line\n",
      "\n",
      '{"not json\n',
      "last line without newline",
    ],
    {},
    "stdin-auto",
  );
  assert.equal(records.length, 4);
  const [json, text, looksLikeJson, last] = records;
  assert.equal(json!.time, Date.parse("2024-05-01T10:00:00Z"));
  assert.equal(json!.level, 40);
  assert.equal(json!.logger, "payment.db");
  assert.equal(json!.message, "timeout");
  assert.deepEqual(json!.fields, { order: 7 });
  assert.equal(text!.message, "plain text line");
  assert.equal(text!.logger, "stdin");
  assert.equal(text!.level, 20);
  assert.equal(
    looksLikeJson!.message,
    '{"not json',
    "auto keeps a line that only looks like JSON as text",
  );
  assert.equal(last!.message, "last line without newline");
});

Deno.test("stdin in json mode rejects and counts malformed lines while the lines around them flow", async () => {
  const { records, pipeline } = await run(
    [
      '{"msg":"one"}\n{"msg":"two"\n{"msg":"three"}\n[1,2]\n   \n{"msg":"four"}\n',
    ],
    { parser: "json" },
    "stdin-json",
  );
  assert.deepEqual(records.map((r) => r.message), ["one", "three", "four"]);
  assert.deepEqual(records.map((r) => r.logger), ["stdin", "stdin", "stdin"], "the default logger");
  const m = pipeline.metrics;
  assert.equal(m.sum("records_rejected_total", { component: "in", reason: "invalid_json" }), 1);
  assert.equal(m.sum("records_rejected_total", { component: "in", reason: "not_an_object" }), 1);
  assert.equal(m.sum("records_in_total", { component: "in" }), 3);
});

Deno.test("stdin in text mode keeps every line as the message, with its logger and level options", async () => {
  const { records } = await run(['{"msg":"x"}\nhello\n'], {
    parser: "text",
    logger: "cron",
    level: "warn",
  }, "stdin-text");
  assert.deepEqual(records.map((r) => [r.logger, r.level, r.message]), [
    ["cron", 30, '{"msg":"x"}'],
    ["cron", 30, "hello"],
  ]);
});

Deno.test("stdin reassembles lines split anywhere across chunks, including inside UTF-8 characters and CRLF", async () => {
  const text = "héllo wörld ✓\r\n" + '{"message":"日本語 🎉","k":1}\r\n' + "end\n";
  const bytes = encoder.encode(text);
  const oneByteChunks = [...bytes].map((b) => new Uint8Array([b]));
  const { records } = await run(oneByteChunks, {}, "stdin-bytes");
  assert.deepEqual(records.map((r) => r.message), ["héllo wörld ✓", "日本語 🎉", "end"]);
  assert.equal(records[1]!.fields.k, 1);
});

Deno.test("stdin rejects an overlong line and invalid UTF-8, counts them, and keeps the other lines", async () => {
  const long = "x".repeat(5000);
  const { records, pipeline } = await run(
    [
      "before\n",
      long.slice(0, 2000),
      long.slice(2000),
      "\nmiddle\n",
      new Uint8Array([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a]), // "bad\xff\xfe\n"
      "after\n",
      "y".repeat(3000) + "\n",
    ],
    { parser: "text", max_line_bytes: 1024 },
    "stdin-reject",
  );
  assert.deepEqual(records.map((r) => r.message), ["before", "middle", "after"]);
  const m = pipeline.metrics;
  assert.equal(m.sum("records_rejected_total", { component: "in", reason: "line_too_long" }), 2);
  assert.equal(m.sum("records_rejected_total", { component: "in", reason: "invalid_utf8" }), 1);
});

Deno.test("stdin stops reading while the sink queue is full and resumes when it drains", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let writeStarted!: () => void;
  const firstWrite = new Promise<void>((resolve) => writeStarted = resolve);
  const written: LogRecord[] = [];
  const slowSink = definePlugin({
    kind: "sink",
    type: "gated",
    description: "Blocks its writes until the test opens the gate.",
    options: s.object({}),
    create: () => ({
      async write(records) {
        writeStarted();
        await gate;
        written.push(...records);
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    }),
  }) as unknown as PluginDefinition;

  const totalChunks = 200;
  let pulled = 0;
  const input = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === totalChunks) return controller.close();
      let chunk = "";
      for (let i = 0; i < 10; i++) chunk += `line ${pulled * 10 + i}\n`;
      pulled++;
      controller.enqueue(encoder.encode(chunk));
    },
  }, { highWaterMark: 0 });
  const sources: StdinSource[] = [];
  const { config, formatters } = await loadConfig({
    sources: { in: { type: "test_lines" } },
    sinks: { out: { type: "gated", buffer: { max_records: 20 } } },
  }, { plugins: [linesFrom(input, sources), slowSink] });
  const pipeline = await Pipeline.create(config, { formatters });
  try {
    await pipeline.start();
    await firstWrite;
    // Give an unthrottled reader ample time to run ahead; a throttled one stays put.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(pulled < 10, `read ${pulled} of ${totalChunks} chunks while the sink was blocked`);
    release();
    await sources[0]!.ended;
    assert.ok(await pipeline.flush());
    assert.equal(written.length, totalChunks * 10);
    assert.equal(written[1999]!.message, "line 1999");
  } finally {
    release();
    await pipeline.shutdown();
  }
});

Deno.test("stdin reads a real process's standard input: 100,000 piped lines arrive, malformed ones are counted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/out.log`;
    const script = `${dir}/read_stdin.ts`;
    const root = new URL("../../../", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `
import { loadConfig } from "${root}src/config/load.ts";
import { Pipeline } from "${root}src/pipeline/pipeline.ts";
import { definePlugin } from "${root}src/plugin/define_plugin.ts";
import stdin from "${root}plugins/sources/stdin.ts";
let ended;
const watched = definePlugin({ ...stdin, async create(options, context) {
  const source = await stdin.create(options, context);
  ended = source.ended;
  return source;
} });
const { config, formatters } = await loadConfig({
  sources: { in: { type: "stdin", parser: "json" } },
  sinks: { out: { type: "file", path: ${JSON.stringify(out)}, format: "json" } },
}, { plugins: [watched] });
const pipeline = await Pipeline.create(config, { formatters });
await pipeline.start();
await ended;
await pipeline.shutdown();
console.log(JSON.stringify({
  rejected: pipeline.metrics.sum("records_rejected_total", { component: "in" }),
  accepted: pipeline.metrics.sum("records_in_total", { component: "in" }),
}));
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", new URL("deno.json", root).pathname, script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    const total = 100_000;
    let bad = 0;
    let block = "";
    for (let i = 0; i < total; i++) {
      if (i % 10_000 === 5) {
        block += `{"msg":"broken ${i}"\n`;
        bad++;
      } else block += JSON.stringify({ level: "info", logger: "pipe", msg: `line ${i}`, i }) + "\n";
      if (block.length > 200_000) {
        await writer.write(encoder.encode(block));
        block = "";
      }
    }
    await writer.write(encoder.encode(block));
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    const errText = new TextDecoder().decode(stderr);
    assert.equal(code, 0, errText);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
      rejected: bad,
      accepted: total - bad,
    });
    assert.match(errText, /rejected line 6: Invalid JSON/, "the first rejection is reported once");
    const lines = (await Deno.readTextFile(out)).trimEnd().split("\n");
    assert.equal(lines.length, total - bad);
    const seen = new Set(lines.map((line) => JSON.parse(line).i));
    assert.equal(seen.size, total - bad);
    assert.ok(!seen.has(5) && seen.has(4) && seen.has(6) && seen.has(total - 1));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

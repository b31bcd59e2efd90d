import assert from "node:assert/strict";
import { Keyring } from "../../src/crypto/decrypt_stream.ts";
import { decodeKey, generateKey } from "../../src/crypto/keys.ts";
import { startSluice } from "../helpers/sluice_process.ts";

const TOKEN = "trace-formats-token";
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const PARENT = "b7ad6b7169203331";

/** Each formatter's sink, and how its line names the trace, the span and the parent span. */
const FORMATS: Record<string, { format: string; expect: string[] }> = {
  text: {
    format: '{ type: text, pattern: "{trace_id} {span_id} {parent_span_id} {message}" }',
    expect: [`${TRACE} ${SPAN} ${PARENT} Payment processed`],
  },
  text_python: {
    format: '{ type: text, pattern: "%(trace_id)s %(span_id)s %(message)s" }',
    expect: [`${TRACE} ${SPAN} Payment processed`],
  },
  json: {
    format: "{ type: json }",
    expect: [`"trace_id":"${TRACE}"`, `"span_id":"${SPAN}"`, `"parent_span_id":"${PARENT}"`],
  },
  ecs: {
    format: "{ type: json, naming: ecs }",
    expect: [`"trace.id":"${TRACE}"`, `"span.id":"${SPAN}"`],
  },
  otel: {
    format: "{ type: json, naming: otel }",
    expect: [`"TraceId":"${TRACE}"`, `"SpanId":"${SPAN}"`],
  },
  logfmt: {
    format: "{ type: logfmt }",
    expect: [`trace_id=${TRACE} span_id=${SPAN} parent_span_id=${PARENT}`],
  },
  syslog: {
    format: "{ type: syslog }",
    expect: [`trace_id="${TRACE}" span_id="${SPAN}" parent_span_id="${PARENT}"`],
  },
};

Deno.test("sluice run: a traced record posted over HTTP keeps its trace_id, span_id and parent_span_id in every formatter's output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = generateKey();
    await Deno.writeTextFile(`${dir}/keys`, key + "\n");
    const sinks = Object.entries(FORMATS).map(([name, { format }]) =>
      `  ${name}: { type: file, inputs: [ingest], path: ${dir}/${name}.log, format: ${format} }`
    );
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        `data_dir: ${dir}/.sluice`,
        `server: { listen: 127.0.0.1:0, token: ${TOKEN} }`,
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        ...sinks,
        `  encrypted: { type: file, inputs: [ingest], path: ${dir}/encrypted.log, format: { type: encrypted, key_file: ${dir}/keys, inner: json } }`,
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config);
    try {
      const res = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          level: "info",
          message: "Payment processed",
          service: "payment-service",
          trace_id: TRACE,
          span_id: SPAN,
          parent_span_id: PARENT,
        }),
      });
      assert.equal(res.status, 200, await res.text());
    } finally {
      const result = await sluice.stop();
      assert.equal(result.code, 0, result.stderr);
    }
    for (const [name, { expect }] of Object.entries(FORMATS)) {
      const line = (await Deno.readTextFile(`${dir}/${name}.log`)).trim();
      for (const part of expect) assert.ok(line.includes(part), `${name}: ${part} in ${line}`);
    }
    const sealed = (await Deno.readTextFile(`${dir}/encrypted.log`)).trim();
    assert.ok(!sealed.includes(TRACE), "encrypted: the ids are sealed with the rest");
    const opened = new TextDecoder().decode(
      new Keyring([decodeKey(key, "keys")]).decrypt(sealed),
    );
    assert.ok(opened.includes(`"trace_id":"${TRACE}"`), opened);
    assert.ok(opened.includes(`"span_id":"${SPAN}"`), opened);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

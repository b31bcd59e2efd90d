import assert from "node:assert/strict";
import { join } from "node:path";
import json from "../../../plugins/formatters/json/mod.ts";
import logfmt from "../../../plugins/formatters/logfmt.ts";
import { parseJsonLine } from "../../../src/parse/record_from_object.ts";
import type { Formatter, PluginContext } from "../../../src/plugin/types.ts";
import { withSluice } from "../../helpers/sluice_process.ts";
import { metricValue } from "../../helpers/metric_value.ts";

// TCP JSON ingest through a real `sluice run`: lines in JSON.stringify's form, lines that
// are not (spaces, an alias key, nested fields and escapes) and malformed lines, mixed on four
// connections to two sources, written in odd-sized pieces. Every valid line comes out once,
// in order per connection, exactly as parseJsonLine and the json formatter write it, in each
// sink (two json sinks sharing one source's records, and beside a logfmt sink and a redact
// route on the other); every malformed line is counted. A guard for work on the ingest hot
// path (issue #18): the WebAssembly scanner, which skips JSON.parse for the first source's
// lines, must not change a byte of this.

const format = json.create(
  json.options.parse({} as never, [], { issues: [] } as never)!,
  {} as PluginContext,
) as Formatter;
const formatLogfmt = logfmt.create(
  logfmt.options.parse({} as never, [], { issues: [] } as never)!,
  {} as PluginContext,
) as Formatter;

function lineOf(conn: number, i: number): string {
  const base = {
    time: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 3)).toISOString(),
    level: i % 7 === 0 ? "warn" : "info",
    logger: `c${conn}`,
    // UTF-8 in one line of 50: reads with and without it both take the block reader (the
    // scanner takes ASCII lines; others are parsed in full), and odd pieces cut sequences.
    message: i % 50 === 1 ? `line ${i} é` : `line ${i}`,
    conn,
    seq: i,
    password: "hunter2",
  };
  switch (i % 10) {
    case 3: // not in JSON.stringify's form
      return JSON.stringify(base, null, 1).replaceAll("\n", "");
    case 5: // an alias of a record key
      return JSON.stringify({ ...base, msg: "alias" });
    case 7: // nested fields and an escape
      return JSON.stringify({ ...base, nested: { a: [1, "x\ny"] }, quote: 'say "hi"' });
    case 9: // malformed
      return `{"conn":${conn},"seq":${i},`;
    default:
      return JSON.stringify(base);
  }
}

Deno.test("tcp json ingest: mixed lines on four connections, every valid line once, in order, as parseJsonLine writes it", async () => {
  const N = 3000;
  const [directPort, mixedPort] = [freePort(), freePort()];
  await withSluice(
    (dir) =>
      `server: { listen: 127.0.0.1:0 }
sources:
  direct: { type: tcp, address: 127.0.0.1:${directPort}, parser: json }
  mixed: { type: tcp, address: 127.0.0.1:${mixedPort}, parser: json }
processors:
  scrub: { type: redact, inputs: [mixed], fields: [password] }
sinks:
  out: { type: file, inputs: [direct], path: ${join(dir, "out.log")}, format: json }
  copy: { type: file, inputs: [direct], path: ${join(dir, "copy.log")}, format: json }
  redacted: { type: file, inputs: [scrub], path: ${join(dir, "redacted.log")}, format: json }
  text: { type: file, inputs: [mixed], path: ${join(dir, "text.log")}, format: logfmt }
  plain: { type: file, inputs: [mixed], path: ${join(dir, "plain.log")}, format: json }
`,
    async (sluice, dir) => {
      const send = async (port: number, conn: number) => {
        const socket = await Deno.connect({ hostname: "127.0.0.1", port });
        const bytes = new TextEncoder().encode(
          Array.from({ length: N }, (_, i) => lineOf(conn, i) + "\n").join(""),
        );
        // Odd-sized pieces, so lines and UTF-8 sequences cross reads.
        for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7 + 3) % 9973) {
          await socket.write(bytes.subarray(at, Math.min(bytes.length, at + step)));
        }
        socket.close();
      };
      await Promise.all([
        send(directPort, 1),
        send(directPort, 2),
        send(mixedPort, 1),
        send(mixedPort, 2),
      ]);
      const valid = 2 * (N - N / 10);
      const files = ["out", "copy", "redacted", "text", "plain"].map((name) =>
        join(dir, `${name}.log`)
      );
      const lines = async (path: string) =>
        (await Deno.readTextFile(path).catch(() => "")).split("\n").filter((l) => l !== "");
      for (let i = 0; i < 600; i++) {
        const counts = await Promise.all(files.map(lines));
        if (counts.every((list) => list.length >= valid)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const metrics = await (await fetch(`${sluice.url}/metrics`)).text();
      assert.equal(
        metricValue(metrics, "sluice_records_rejected_total", { reason: "invalid_json" }),
        4 * N / 10,
      );
      // The direct source's lines in JSON.stringify's form skip JSON.parse (8 of 10 lines, less
      // those in reads that arrived split into pieces); the mixed one feeds processors: none.
      const scanned = (id: string) =>
        metricValue(metrics, "sluice_records_scanned_total", { component: id });
      assert.ok(scanned("direct") > N, `scanned ${scanned("direct")}`);
      assert.equal(scanned("mixed"), 0);
      const expected = new Map<number, string[]>();
      for (const conn of [1, 2]) {
        const list: string[] = [];
        for (let i = 0; i < N; i++) {
          if (i % 10 !== 9) list.push(format(parseJsonLine(lineOf(conn, i), 0)) as string);
        }
        expected.set(conn, list);
      }
      // The json sinks: two sharing one source's records, and one beside other routes.
      for (const name of ["out", "copy", "plain"]) {
        const written = await lines(join(dir, `${name}.log`));
        assert.equal(written.length, valid, name);
        const byConn = new Map<number, string[]>([[1, []], [2, []]]);
        for (const line of written) byConn.get(JSON.parse(line).conn)!.push(line);
        for (const conn of [1, 2]) {
          assert.deepEqual(byConn.get(conn), expected.get(conn), `${name}, connection ${conn}`);
        }
      }
      // Another formatter on the same records reads their fields as the full parser made them.
      const text = await lines(join(dir, "text.log"));
      const expectedText = [1, 2].flatMap((conn) =>
        Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 !== 9).map((i) =>
          formatLogfmt(parseJsonLine(lineOf(conn, i), 0)) as string
        )
      );
      assert.deepEqual(text.toSorted(), expectedText.toSorted());
      const scrubbed = await lines(join(dir, "redacted.log"));
      assert.equal(scrubbed.length, valid);
      for (const line of scrubbed) assert.equal(JSON.parse(line).password, "[REDACTED]");
    },
  );
});

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

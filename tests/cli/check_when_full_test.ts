// `sluice check` refuses `when_full: block` where a log call cannot be held (a sink that writes
// only asynchronously, fed by a logger source) and accepts it where it can.
import assert from "node:assert/strict";
import { runCli, withConfig } from "../helpers/sluice_process.ts";

const CASES: { name: string; yaml: string; code: number; stderr: RegExp }[] = [
  {
    name: "block on a tcp sink fed by a logger",
    yaml: `sources:
  app: { type: logger }
sinks:
  out:
    type: tcp
    address: 127.0.0.1:9
    buffer: { max_records: 10, when_full: block }
`,
    code: 2,
    stderr:
      /^FILE:7:43: sinks\.out\.buffer\.when_full: when_full "block" cannot hold a log call on sink "out": its type "tcp" writes only asynchronously \(its plugin declares no writesSync\), and logger source "app" feeds it \(use drop_newest or drop_oldest, whose drops are counted and said, or a disk buffer \(`type: disk`\), which a log call appends to\)\n1 problem found\n$/,
  },
  {
    name: "block on an http sink fed by a logger through a processor",
    yaml: `sources:
  app: { type: logger }
processors:
  tag: { type: fields, inputs: [app], add: { env: prod } }
sinks:
  out:
    type: http
    url: http://127.0.0.1:9/ingest
    inputs: [tag]
    buffer: { when_full: block }
`,
    code: 2,
    stderr: /^FILE:10:26: sinks\.out\.buffer\.when_full: .*logger source "app" feeds it/,
  },
  { name: "block unset on a tcp sink fed by a logger", yaml: "", code: 0, stderr: /^$/ },
  {
    name: "block on a tcp sink fed by a tcp source (sources wait)",
    yaml: `sources:
  net: { type: tcp, address: 127.0.0.1:0 }
sinks:
  out:
    type: tcp
    address: 127.0.0.1:9
    buffer: { when_full: block }
`,
    code: 0,
    stderr: /^$/,
  },
  {
    name: "block on a tcp sink with a disk buffer",
    yaml: `sources:
  app: { type: logger }
sinks:
  out:
    type: tcp
    address: 127.0.0.1:9
    buffer: { type: disk, when_full: block }
`,
    code: 0,
    stderr: /^$/,
  },
  {
    name: "block on a file sink fed by a logger",
    yaml: `sources:
  app: { type: logger }
sinks:
  out:
    type: file
    path: out.log
    buffer: { when_full: block }
`,
    code: 0,
    stderr: /^$/,
  },
];
CASES[2]!.yaml = CASES[0]!.yaml.replace(", when_full: block", "");

for (const { name, yaml, code, stderr } of CASES) {
  Deno.test(`sluice check: when_full ${name}: ${code === 0 ? "ok" : "an error at its key"}`, async () => {
    await withConfig(yaml, async (file) => {
      const result = await runCli(["check", "--config", file]);
      assert.equal(result.code, code, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(stderr.source.replace("FILE", file.replace(/[.]/g, "\\."))),
      );
    });
  });
}

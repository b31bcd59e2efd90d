import assert from "node:assert/strict";
import { createRecord, type LogRecord, serializeError } from "../../../src/core/record.ts";
import { wellFormedJson } from "../../../src/core/well_formed_json.ts";
import json from "../../../plugins/formatters/json/mod.ts";
import { elasticsearchPreset } from "../../../plugins/sinks/http/presets/elasticsearch.ts";
import { jsonArrayPreset } from "../../../plugins/sinks/http/presets/json_array.ts";
import { lokiPreset } from "../../../plugins/sinks/http/presets/loki.ts";
import { otlpPreset } from "../../../plugins/sinks/http/presets/otlp.ts";
import type { HttpPreset } from "../../../plugins/sinks/http/presets/preset.ts";
import type { Formatter, PluginContext } from "../../../src/plugin/types.ts";

/** Every string (keys too) in a parsed JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  }
  return [];
}

function jsonFormatter(): Formatter {
  const options = json.options.parse({}, [], { issues: [] });
  return json.create(options!, {} as PluginContext) as Formatter;
}

const error = serializeError(new Error("bad \udc00 error", { cause: new Error("\ud800") }));
const hostile: LogRecord = createRecord({
  time: 0,
  logger: "app\ud800",
  message: "lone \ud800 high, lone \udfff low, pair \ud83d\ude00, text \\ud800",
  fields: { ["key\udbff"]: "value\udc00", list: ["\ud800"], nested: { ["\udc01"]: 1 } },
  error,
});

Deno.test("every JSON output is well-formed: lone surrogates become U+FFFD, pairs and escaped text stay", () => {
  const line = jsonFormatter();
  const body = (preset: HttpPreset) => preset.body([preset.item(hostile)], [hostile]);
  const outputs: [string, string][] = [
    ["json", line(hostile) as string],
    ["json_array", body(jsonArrayPreset(line))],
    ["loki", body(lokiPreset({ labels: ["logger"], staticLabels: { job: "x\ud800" } }, line))],
    ["loki text", body(lokiPreset({ labels: [], staticLabels: {} }, (r) => r.message))],
    ["elasticsearch", body(elasticsearchPreset({ index: "logs", action: "create" }))],
    ["otlp", body(otlpPreset({ resource: { "service.name": "s\ud800" } }))],
  ];
  for (const [name, text] of outputs) {
    // TextEncoder would write U+FFFD for a lone surrogate anyway; an escape survives it.
    assert.doesNotMatch(text, /(?<!\\)(\\\\)*\\ud[89a-f]/i, `${name} has a lone surrogate escape`);
    for (const part of text.trim().split("\n")) {
      for (const s of strings(JSON.parse(part))) assert.ok(s.isWellFormed(), `${name}: ${s}`);
    }
    assert.ok(text.includes("\ud83d\ude00"), `${name} keeps the pair`);
  }
  const parsed = JSON.parse(outputs[0]![1]);
  assert.equal(
    parsed.message,
    "lone \ufffd high, lone \ufffd low, pair \ud83d\ude00, text \\ud800",
  );
  assert.equal(parsed["key\ufffd"], "value\ufffd");
  assert.equal(parsed.error.cause.message, "\ufffd");
});

Deno.test("wellFormedJson reads backslash runs: an escaped \\u is text, an even run before one is not", () => {
  assert.equal(wellFormedJson('"\\\\ud800"'), '"\\\\ud800"');
  assert.equal(wellFormedJson('"\\\\\\ud800"'), '"\\\\\ufffd"');
  assert.equal(wellFormedJson('"\\uD800\\uDC00"'), '"\\uD800\\uDC00"');
  assert.equal(wellFormedJson('"\\udc00\\ud800"'), '"\ufffd\ufffd"');
  assert.equal(wellFormedJson('"\\ud800\\u0041"'), '"\ufffd\\u0041"');
});

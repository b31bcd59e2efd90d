// A name a user or a peer writes (a config key, a variable, a unit, a field path, a
// placeholder) is looked up among own properties only: `constructor`, `toString` and the
// other names every object inherits from Object.prototype are never a match.
import assert from "node:assert/strict";
import { getOwn } from "../../src/core/get_own.ts";
import { createRecord } from "../../src/core/record.ts";
import { expandEnv } from "../../src/config/env.ts";
import { parseBytes, parseDuration, s } from "../../src/schema/schema.ts";
import type { Issue } from "../../src/schema/schema.ts";
import { percentFormat } from "../../src/parse/percent_format.ts";
import type { PluginContext, Processor } from "../../src/plugin/types.ts";
import filter from "../../plugins/processors/filter.ts";
import fieldsProcessor from "../../plugins/processors/fields.ts";
import { compilePattern } from "../../plugins/formatters/text/mod.ts";
import { compilePythonLine } from "../../plugins/sources/file/python_line.ts";
import { lokiPreset } from "../../plugins/sinks/http/presets/loki.ts";

const INHERITED = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];

Deno.test("getOwn reads own properties and never an inherited one", () => {
  assert.equal(getOwn({ a: 1 }, "a"), 1);
  for (const name of INHERITED) assert.equal(getOwn({}, name), undefined, name);
});

Deno.test("an object schema reports an inherited name as an unknown key", () => {
  const schema = s.object({ path: s.string() });
  for (const name of INHERITED.filter((n) => n !== "__proto__")) {
    const ctx = { issues: [] as Issue[] };
    assert.equal(schema.parse({ path: "a.log", [name]: 1 }, [], ctx), undefined, name);
    assert.deepEqual(ctx.issues.map((i) => i.path), [[name]], name);
    assert.match(ctx.issues[0]!.message, new RegExp(`^Unknown key "${name}"`));
  }
  // An optional key the user did not write stays absent, whatever the prototype holds.
  const open = s.object({ toString: s.string().optional() });
  const ctx = { issues: [] as Issue[] };
  assert.deepEqual(open.parse({}, [], ctx), {});
  assert.deepEqual(ctx.issues, []);
});

Deno.test("sizes and durations refuse a unit named after an inherited property", () => {
  assert.equal(parseBytes("1constructor"), undefined);
  assert.equal(parseBytes("2toString"), undefined);
  assert.equal(parseBytes("2KiB"), 2048);
  assert.equal(parseDuration("1s"), 1000);
});

Deno.test("${VAR} of an inherited name is an unset variable, not a function's source", () => {
  const issues: Issue[] = [];
  const out = expandEnv(
    { path: "${toString}", other: "${constructor:-fallback}" },
    {
      HOME: "/root",
    },
    [],
    issues,
  );
  assert.deepEqual(out, { path: "${toString}", other: "fallback" });
  assert.deepEqual(issues.map((i) => i.message), ['Environment variable "toString" is not set']);
});

Deno.test("%(name)s of an inherited name is a missing key of the mapping", () => {
  assert.equal(percentFormat("%(constructor)s", {}), undefined);
  assert.equal(percentFormat("%(toString)s", { user: "ann" }), undefined);
  assert.equal(percentFormat("%(user)s", { user: "ann" }), "ann");
});

function processor(
  definition: typeof filter | typeof fieldsProcessor,
  raw: Record<string, unknown>,
): Processor {
  const ctx = { issues: [] as Issue[] };
  const options = definition.options.parse(raw, [], ctx);
  assert.deepEqual(ctx.issues, []);
  return (definition.create as (o: unknown, c: PluginContext) => Processor)(
    options,
    {} as PluginContext,
  );
}

Deno.test("filter field paths see only the record's own fields", () => {
  const record = createRecord({ message: "m", fields: { user: { id: 1 } } });
  for (const name of ["constructor", "toString", "user.constructor", "user.id.toString"]) {
    const missing = processor(filter, { fields: { [name]: null } });
    assert.equal(missing(record), record, `${name} is missing from the record`);
    const present = processor(filter, { regex: { [name]: "." } });
    assert.equal(present(record), null, `${name} has no text to match`);
  }
});

Deno.test("fields renames only a field the record has", () => {
  const rename = processor(fieldsProcessor, { rename: { constructor: "ctor", toString: "text" } });
  const out = rename(createRecord({ message: "m", fields: { user: "ann" } }));
  assert.ok(out && !Array.isArray(out));
  assert.deepEqual((out as { fields: unknown }).fields, { user: "ann" });
});

Deno.test("text placeholders of inherited names print nothing, not a function", () => {
  const record = createRecord({ logger: "app", message: "m", fields: { user: { id: 7 } } });
  assert.equal(compilePattern("[{constructor}][{user.toString}]", "iso", true)(record), "[][]");
  const percent = compilePattern("%(message)s|%(toString)s|", "iso", true, {
    defaults: { toString: "-" },
  });
  assert.equal(percent(record), "m|-|");
});

Deno.test("a Python line format with an inherited placeholder name captures the text", () => {
  const parse = compilePythonLine("%(constructor)s %(message)s");
  const record = parse("abc hello", 0);
  assert.equal(record.message, "hello");
  assert.equal(record.fields.constructor, "abc");
});

Deno.test("loki labels of inherited names are absent from a record without them", () => {
  const preset = lokiPreset(
    { labels: ["constructor", "service"], staticLabels: {} },
    (r) => r.message,
  );
  const record = createRecord({ time: 1, message: "m", fields: { service: "pay" } });
  const body = JSON.parse(preset.body([preset.item(record)], [record]));
  assert.deepEqual(body.streams[0].stream, { service: "pay" });
});

Deno.test("level names and plugin types never match an inherited name", async () => {
  const { parseLevel } = await import("../../src/core/levels.ts");
  const { Registry } = await import("../../src/plugin/registry.ts");
  const { builtinLoaders } = await import("../../plugins/mod.ts");
  const registry = await new Registry([], builtinLoaders).loadAll();
  for (const name of INHERITED) {
    assert.equal(parseLevel(name), undefined, name);
    for (const kind of ["source", "processor", "formatter", "sink"] as const) {
      assert.equal(registry.get(kind, name), undefined, `${kind} ${name}`);
    }
  }
});

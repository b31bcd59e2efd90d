// The published JSON Schema, checked with a real draft 2020-12 validator (ajv, strict mode):
// the configs Sluice accepts validate, the ones it rejects for shape or type do not.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { definePlugin, loadBuiltins, loadConfig, type PluginDefinition, s } from "../../mod.ts";
import { buildJsonSchema } from "../../src/config/json_schema.ts";
import { Registry } from "../../src/plugin/registry.ts";
import { type JsonSchema, parseBytes, parseDuration } from "../../src/schema/schema.ts";

const CONFIG_DIR = fileURLToPath(new URL("../../config/", import.meta.url));
const builtins = await loadBuiltins();

function compile(registry: Registry = new Registry(builtins)) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  ajv.addFormat("regex", (text: string) => {
    try {
      new RegExp(text, "u");
      return true;
    } catch {
      return false;
    }
  });
  return ajv.compile(buildJsonSchema(registry));
}

const validate = compile();

function errorsOf(doc: unknown): string {
  return validate(doc) ? "" : JSON.stringify(validate.errors?.slice(0, 3));
}

// The YAML contract of the issue, verbatim.
const CONTRACT = `
server:
  listen: 127.0.0.1:9600
loggers:
  "": info
  payment.db: debug
sources:
  app:    { type: logger }
  ingest: { type: http, path: /ingest }
processors:
  errors: { type: filter, inputs: [app, ingest], level: error }
sinks:
  console: { type: console, inputs: [app], level: debug,
             format: { type: text, pattern: "{time} - {logger} - {level} - {message}" } }
  file:    { type: file, inputs: [app, ingest], path: logs/app.log, level: info, format: json }
  alerts:  { type: file, inputs: [errors], path: logs/errors.log, format: json }
`;

Deno.test("json_schema: it is a valid draft 2020-12 schema that a strict validator compiles", () => {
  const schema = buildJsonSchema(new Registry(builtins));
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(typeof validate, "function");
});

Deno.test("json_schema: the issue's YAML contract validates, and Sluice accepts it too", async () => {
  const doc = parse(CONTRACT);
  assert.equal(errorsOf(doc), "");
  await loadConfig(doc, { env: {} });
});

Deno.test("json_schema: every YAML shipped under config/ validates", async () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (/\.ya?ml$/.test(entry.name)) files.push(path);
    }
  };
  walk(CONFIG_DIR);
  assert.ok(files.some((file) => file.endsWith("custom_plugin.yaml")), "no example configs found");
  for (const file of files) {
    assert.equal(errorsOf(parse(await Deno.readTextFile(file))), "", file);
  }
});

Deno.test("json_schema: shorthands, module plugins, nulls and ${VAR} references validate", () => {
  const docs: unknown[] = [
    { server: null, sources: null, processors: null, sinks: null, loggers: null },
    { sinks: { out: { type: "file", path: "a.log", inputs: "app", level: "WARNING" } } },
    { sinks: { out: { type: "console", format: "logfmt", level: 25 } } },
    { sinks: { out: { module: "./plugins/counts.ts", path: "x", anything: [1], level: "info" } } },
    { sinks: { out: { type: "file", path: "a", format: { module: "./fmt.ts", colour: "red" } } } },
    {
      sinks: {
        out: {
          type: "memory",
          max_records: "${MAX}",
          level: "${LEVEL:-info}",
          buffer: { max_bytes: "${BYTES:-8MiB}", when_full: "${WHEN_FULL}" },
          fallback_after: "1h30m",
        },
      },
    },
    { loggers: { "": "INFO", "a.b": { level: "debug", propagate: false } } },
    { processors: { p: { module: "./p.ts", inputs: ["app"] } } },
    { "x-defaults": { type: "memory", level: "info" }, sinks: { a: { type: "memory" } } },
  ];
  for (const doc of docs) assert.equal(errorsOf(doc), "", JSON.stringify(doc));
});

Deno.test("json_schema: what Sluice rejects for shape or type, the schema rejects", async () => {
  const bad: [string, unknown][] = [
    ["unknown top-level key", { sink: {} }],
    ["unknown sink type", { sinks: { out: { type: "fil", path: "a" } } }],
    ["formatter as sink type", { sinks: { out: { type: "json" } } }],
    ["unknown option", { sinks: { out: { type: "file", paht: "a" } } }],
    ["framework key typo", { sinks: { out: { type: "memory", levle: "info" } } }],
    ["missing required option", { sinks: { out: { type: "file" } } }],
    ["string for integer", { sinks: { out: { type: "memory", max_records: "lots" } } }],
    ["bad size", { sinks: { out: { type: "memory", buffer: { max_bytes: "10 megs" } } } }],
    ["bad duration", { sinks: { out: { type: "memory", fallback_after: "5 minutes" } } }],
    ["bad level", { sinks: { out: { type: "memory", level: "loud" } } }],
    ["bad enum", { sinks: { out: { type: "memory", buffer: { when_full: "drop_new" } } } }],
    ["unknown formatter", { sinks: { out: { type: "file", path: "a", format: "jsn" } } }],
    ["formatter option typo", {
      sinks: { out: { type: "console", format: { type: "text", patern: "{message}" } } },
    }],
    ["processor without inputs", { processors: { p: { type: "filter", level: "error" } } }],
    ["module without a path", { sinks: { out: { module: "" } } }],
    ["no type, no module", { sinks: { out: { path: "a" } } }],
    ["list for mapping", { sinks: [{ type: "file", path: "a" }] }],
    ["bad listen", { server: { listen: "localhost" } }],
    ["logger option typo", { loggers: { a: { level: "info", propagte: true } } }],
  ];
  for (const [name, doc] of bad) {
    assert.equal(validate(doc), false, `the schema accepts: ${name}`);
    await assert.rejects(loadConfig(doc as Record<string, unknown>, { env: {} }), name);
  }
});

Deno.test("json_schema: size and duration patterns agree with the parsers", () => {
  const patternOf = (schema: JsonSchema) =>
    new RegExp(
      (schema.anyOf as JsonSchema[]).find((member) => member.type === "string")!.pattern as string,
      "u",
    );
  const ctx = { formatter: () => ({}) };
  const bytes = patternOf(s.bytes().jsonSchema(ctx));
  const duration = patternOf(s.duration().jsonSchema(ctx));
  for (
    const text of ["10MiB", "512 KiB", "1GB", "1.5mib", "7", "10k", "10 megs", "10ki", "MiB", ""]
  ) {
    assert.equal(bytes.test(text), parseBytes(text) !== undefined, `size ${JSON.stringify(text)}`);
  }
  for (const text of ["200ms", "30s", "10m", "1h30m", "14d", "2w", "5S", "5 minutes", "500", ""]) {
    assert.equal(
      duration.test(text),
      parseDuration(text) !== undefined,
      `duration ${JSON.stringify(text)}`,
    );
  }
});

Deno.test("json_schema: a registry's own plugins appear with their options", () => {
  const custom = definePlugin({
    kind: "sink",
    type: "webhook",
    description: "Posts batches.",
    options: s.object({
      url: s.string({ minLength: 1 }),
      retries: s.integer({ min: 0 }).default(3),
    }),
    create: () => ({ write() {}, [Symbol.asyncDispose]: () => Promise.resolve() }),
  }) as PluginDefinition;
  const check = compile(new Registry([...builtins, custom]));
  assert.equal(
    check({ sinks: { hook: { type: "webhook", url: "https://x", level: "error" } } }),
    true,
  );
  assert.equal(check({ sinks: { hook: { type: "webhook" } } }), false);
  assert.equal(check({ sinks: { hook: { type: "webhook", url: "u", retries: -1 } } }), false);
  assert.equal(validate({ sinks: { hook: { type: "webhook", url: "u" } } }), false);
});

// The validator's layers against a small registry of test plugins, so that messages which list
// every type or key stay stable while the built-ins grow.
import assert from "node:assert/strict";
import { definePlugin, type PluginDefinition, s } from "../../mod.ts";
import { validateConfig } from "../../src/config/validate.ts";
import { Registry } from "../../src/plugin/registry.ts";
import { closest } from "../../src/schema/closest.ts";
import { type Issue, unknownName } from "../../src/schema/schema.ts";

const noop = { write() {}, [Symbol.asyncDispose]: () => Promise.resolve() };
const plugins = [
  definePlugin({
    kind: "source",
    type: "pipe",
    description: "Test source.",
    options: s.object({}),
    create: () => ({ start() {}, [Symbol.asyncDispose]: () => Promise.resolve() }),
  }),
  definePlugin({
    kind: "source",
    type: "web",
    description: "Test source served by the server.",
    options: s.object({ route: s.string().default("/in") }),
    needsServer: true,
    create: () => ({ start() {}, [Symbol.asyncDispose]: () => Promise.resolve() }),
  }),
  definePlugin({
    kind: "processor",
    type: "keep",
    description: "Test processor.",
    options: s.object({ level: s.level().optional() }),
    create: () => (record) => record,
  }),
  definePlugin({
    kind: "formatter",
    type: "plain",
    description: "Test formatter.",
    options: s.object({ upper: s.boolean().default(false) }),
    create: () => (record) => record.message,
  }),
  definePlugin({
    kind: "sink",
    type: "disk",
    description: "Test sink.",
    options: s.object({ path: s.string({ minLength: 1 }), format: s.formatter().optional() }),
    create: () => noop,
  }),
  definePlugin({
    kind: "sink",
    type: "void",
    description: "Test sink without options.",
    options: s.object({}),
    create: () => noop,
  }),
] as PluginDefinition[];

function validate(raw: unknown) {
  const issues: Issue[] = [];
  const config = validateConfig(raw, {
    registry: new Registry(plugins),
    modules: new Map(),
    baseDir: "/base",
  }, issues);
  const lines = issues.map((i) =>
    `${i.path.join(".")}: ${i.message}${i.hint ? ` (${i.hint})` : ""}`
  );
  return { config, issues, lines };
}

Deno.test("validate: an unknown type without a close match lists every type of its kind", () => {
  assert.deepEqual(validate({ sinks: { out: { type: "kafka" } } }).lines, [
    'sinks.out.type: Unknown sink type "kafka"; expected one of disk, void',
  ]);
  assert.deepEqual(validate({ sinks: { out: { type: "dsk", path: "a" } } }).lines, [
    'sinks.out.type: Unknown sink type "dsk" (did you mean "disk"?)',
  ]);
});

Deno.test("validate: a component without type or module lists the types of its kind", () => {
  assert.deepEqual(validate({ sources: { app: { route: "/x" } } }).lines, [
    'sources.app: Missing "type" (one of pipe, web) or "module"',
  ]);
});

Deno.test("validate: an unknown key without a close match lists the options and framework keys", () => {
  assert.deepEqual(validate({ sinks: { out: { type: "disk", path: "a", colour: 1 } } }).lines, [
    'sinks.out.colour: Unknown key "colour"; expected one of path, format, type, module, inputs, level, buffer, fallback, fallback_after',
  ]);
});

Deno.test("validate: a type of another kind names both kinds; only a formatter gets a format hint", () => {
  assert.deepEqual(validate({ sinks: { out: { type: "pipe" }, o2: { type: "plain" } } }).lines, [
    'sinks.out.type: "pipe" is a source type, not a sink type',
    'sinks.o2.type: "plain" is a formatter type, not a sink type (use it as a sink\'s format, e.g. `type: file, format: plain`)',
  ]);
});

Deno.test("validate: a misspelt required key is one problem, not two", () => {
  assert.deepEqual(validate({ sinks: { out: { type: "disk", pth: "a" } } }).lines, [
    'sinks.out.pth: Unknown key "pth" (did you mean "path"?)',
  ]);
  assert.deepEqual(validate({ sinks: { out: { type: "disk" } } }).lines, [
    'sinks.out.path: Missing required key "path" (a non-empty string)',
  ]);
});

Deno.test("validate: formatter shorthand and mapping are resolved with their options", () => {
  const { config, lines } = validate({
    sinks: {
      a: { type: "disk", path: "a", format: "plain" },
      b: { type: "disk", path: "b", format: { type: "plain", upper: true } },
      c: { type: "disk", path: "c", format: { type: "plain", uper: true } },
      d: { type: "disk", path: "d", format: 5 },
    },
  });
  assert.equal(config, undefined);
  assert.deepEqual(lines, [
    'sinks.c.format.uper: Unknown key "uper" (did you mean "upper"?)',
    "sinks.d.format: Expected a formatter type name or a mapping with a type, got 5",
  ]);
  const ok = validate({
    sinks: {
      a: { type: "disk", path: "a", format: "plain" },
      b: { type: "disk", path: "b", format: { type: "plain", upper: true } },
    },
  }).config!;
  assert.deepEqual(ok.sinks.a!.options.format, { type: "plain", options: { upper: false } });
  assert.deepEqual(ok.sinks.b!.options.format, { type: "plain", options: { upper: true } });
});

Deno.test("validate: references are checked even when the component's own options are wrong", () => {
  assert.deepEqual(
    validate({
      sources: { app: { type: "pipe" } },
      sinks: { out: { type: "disk", inputs: ["ap"], level: "loud", fallback: "nowhere" } },
    }).lines,
    [
      'sinks.out.level: Expected a level (trace, debug, info, warn, error, critical), got "loud"',
      'sinks.out.path: Missing required key "path" (a non-empty string)',
      'sinks.out.inputs.0: Unknown input "ap" (did you mean "app"?)',
      'sinks.out.fallback: Unknown fallback sink "nowhere"; there is no other sink',
    ],
  );
});

Deno.test("validate: inputs name sources or processors that exist", () => {
  assert.deepEqual(validate({ sinks: { out: { type: "void", inputs: ["app"] } } }).lines, [
    'sinks.out.inputs.0: Unknown input "app"; no sources or processors are defined',
  ]);
  assert.deepEqual(
    validate({
      sources: { app: { type: "pipe" }, web: { type: "pipe" } },
      sinks: { out: { type: "void", inputs: ["zzz"] } },
    }).lines,
    ['sinks.out.inputs.0: Unknown input "zzz"; expected one of app, web'],
  );
  // A single input may be written without brackets.
  const { config } = validate({
    sources: { app: { type: "pipe" } },
    sinks: { out: { type: "void", inputs: "app" } },
  });
  assert.deepEqual(config!.sinks.out!.inputs, ["app"]);
});

Deno.test("validate: a processor cycle is reported once; a processor may read another", () => {
  const { lines } = validate({
    sources: { app: { type: "pipe" } },
    processors: { a: { type: "keep", inputs: ["b"] }, b: { type: "keep", inputs: ["a"] } },
  });
  assert.deepEqual(lines, [
    "processors.a.inputs: Processor inputs form a cycle: a reads b, b reads a",
  ]);
  const { config } = validate({
    sources: { app: { type: "pipe" } },
    processors: { a: { type: "keep", inputs: ["app"] }, b: { type: "keep", inputs: ["a"] } },
    sinks: { out: { type: "void", inputs: ["b"] } },
  });
  assert.deepEqual(config!.processors.b!.inputs, ["a"]);
  // A plugin option may share a sink framework key's name on a processor: it is the plugin's.
  assert.equal(
    validate({
      sources: { app: { type: "pipe" } },
      processors: { p: { type: "keep", inputs: ["app"], level: "error" } },
      sinks: { out: { type: "void", inputs: ["p"] } },
    }).config!.processors.p!.options.level,
    40,
  );
});

Deno.test("validate: a source served by the server needs a server section, defaults are enough", () => {
  assert.deepEqual(validate({ sources: { ingest: { type: "web" } } }).lines, [
    'sources.ingest.type: Source "ingest" (type web) is served by the Sluice server, but there is no server section (add `server: { listen: 127.0.0.1:9600 }`)',
  ]);
  const { config } = validate({
    server: null,
    sources: { ingest: { type: "web" } },
    sinks: { out: { type: "void" } },
  });
  assert.equal(config!.server!.hostname, "127.0.0.1");
  assert.equal(config!.server!.port, 9600);
  // An invalid server section is reported for itself, not as a missing one.
  assert.deepEqual(
    validate({ server: { listen: "nope" }, sources: { ingest: { type: "web" } } }).lines,
    ['server.listen: Expected host:port such as 127.0.0.1:9600, got "nope"'],
  );
});

Deno.test("validate: a source or processor that reaches no sink is an error, named with where to add it", () => {
  assert.deepEqual(
    validate({
      sources: { app: { type: "pipe" }, audit: { type: "pipe" } },
      processors: {
        tag: { type: "keep", inputs: ["app"] },
        lost: { type: "keep", inputs: ["audit"] },
      },
      sinks: { out: { type: "void", inputs: ["tag"] }, spare: { type: "void", inputs: ["tag"] } },
    }).lines,
    [
      'sources.audit: Source "audit" reaches no sink, so its records would be lost (add "audit" to the inputs of a sink (out, spare), or remove it)',
      'processors.lost: Processor "lost" reaches no sink, so its records would be lost (add "lost" to the inputs of a sink (out, spare), or remove it)',
    ],
  );
  assert.deepEqual(validate({ sources: { app: { type: "pipe" } } }).lines, [
    'sources.app: Source "app" reaches no sink, so its records would be lost (add a sink, such as `sinks: { out: { type: console } }`)',
  ]);
  // A sink without inputs reads every source, except one that only serves as a fallback.
  assert.ok(
    validate({ sources: { app: { type: "pipe" } }, sinks: { out: { type: "void" } } }).config,
  );
  assert.deepEqual(
    validate({
      sources: { app: { type: "pipe" }, extra: { type: "pipe" } },
      sinks: {
        out: { type: "void", inputs: ["app"], fallback: "spool" },
        spool: { type: "void" },
      },
    }).lines,
    [
      'sources.extra: Source "extra" reaches no sink, so its records would be lost (add "extra" to the inputs of a sink (out, spool), or remove it)',
    ],
  );
  // Sinks with nothing to read are fine: a library may configure its outputs before its sources.
  assert.ok(validate({ sinks: { out: { type: "void" } } }).config);
  // Ids that are names on Object.prototype are ids like any other.
  assert.deepEqual(
    validate({
      sources: { constructor: { type: "pipe" }, app: { type: "pipe" } },
      processors: { toString: { type: "keep", inputs: ["constructor"] } },
      sinks: { out: { type: "void", inputs: ["app"] } },
    }).lines,
    [
      'sources.constructor: Source "constructor" reaches no sink, so its records would be lost (add "constructor" to the inputs of a sink (out), or remove it)',
      'processors.toString: Processor "toString" reaches no sink, so its records would be lost (add "toString" to the inputs of a sink (out), or remove it)',
    ],
  );
});

Deno.test("validate: loggers take a level or a mapping, each checked on its own terms", () => {
  const { config } = validate({
    loggers: { "": "info", "payment.db": { level: "DEBUG", propagate: false }, quiet: {} },
  });
  assert.deepEqual(config!.loggers, {
    "": { level: 20, propagate: true },
    "payment.db": { level: 10, propagate: false },
    quiet: { level: 0, propagate: true },
  });
  assert.deepEqual(validate({ loggers: { a: "eror", b: { levle: "info" }, c: [1] } }).lines, [
    'loggers.a: Expected a level (trace, debug, info, warn, error, critical), got "eror" (did you mean "error"?)',
    'loggers.b.levle: Unknown key "levle" (did you mean "level"?)',
    "loggers.c: Expected a level (trace, debug, info, warn, error, critical), got a list",
  ]);
});

Deno.test("validate: an empty or missing config is valid and has no components", () => {
  for (const raw of [null, undefined, {}]) {
    const { config, issues } = validate(raw);
    assert.deepEqual(issues, []);
    assert.deepEqual(config!.sinks, {});
    assert.equal(config!.dataDir, "/base/.sluice");
  }
});

Deno.test("closest: an adjacent swap is one edit; far-off names get no suggestion", () => {
  assert.equal(closest("levle", ["level", "inputs"]), "level");
  assert.equal(closest("paht", ["path", "format"]), "path");
  assert.equal(closest("Level", ["level"]), "level");
  assert.equal(closest("kafka", ["file", "console", "memory"]), undefined);
  assert.equal(closest("x", []), undefined);
});

Deno.test("unknownName: a did-you-mean replaces the list; without one the list is given", () => {
  assert.deepEqual(unknownName("sink type", "fil", ["t"], ["console", "file"]), {
    path: ["t"],
    message: 'Unknown sink type "fil"',
    hint: 'did you mean "file"?',
  });
  assert.deepEqual(unknownName("key", "zz", ["k"], ["path", "format"], true), {
    path: ["k"],
    message: 'Unknown key "zz"; expected one of path, format',
    atKey: true,
  });
});

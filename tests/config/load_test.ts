// Loading configs: env expansion, object configs, defaults, path resolution, module plugins.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  ConfigError,
  configure,
  getLogger,
  type Issue,
  loadConfig,
  memoryRecords,
  parseConfigText,
  type Path,
  s,
  shutdown,
} from "../../mod.ts";
import { expandEnv, pathKey } from "../../src/config/env.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

async function failure(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(() => undefined, (error: unknown) => error);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  return error;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-load-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("env: ${VAR}, ${VAR:-default} and $$ expand in every string, numbers included", async () => {
  const { config } = await parseConfigText(
    [
      "sinks:",
      "  a: { type: memory, name: '${NAME}-$$HOME-$${X}', max_records: '${MAX}' }",
      "  b: { type: memory, name: '${UNSET:-fallback}', level: '${LEVEL:-warn}' }",
      "  c: { type: memory, name: '${EMPTY:-empty default}/${EMPTY}/x' }",
      "  d: { type: file, path: '${DIR}/app.log', format: '${FORMAT:-logfmt}' }",
    ].join("\n"),
    "env.yaml",
    { env: { NAME: "web", MAX: "50", EMPTY: "", DIR: "/var/log/sluice" } },
  );
  assert.equal(config.sinks.a!.options.name, "web-$HOME-${X}");
  assert.equal(config.sinks.a!.options.max_records, 50);
  assert.equal(config.sinks.b!.options.name, "fallback");
  assert.equal(config.sinks.b!.level, 30);
  // `:-` also replaces an empty value; a plain reference to an empty variable is empty.
  assert.equal(config.sinks.c!.options.name, "empty default//x");
  assert.equal(config.sinks.d!.options.path, "/var/log/sluice/app.log");
  assert.equal((config.sinks.d!.options.format as { type: string }).type, "logfmt");
});

Deno.test("env: the process environment is used when no env is given", async () => {
  const name = `SLUICE_LOAD_TEST_${crypto.randomUUID().replaceAll("-", "_")}`;
  Deno.env.set(name, "from-process");
  try {
    const { config } = await loadConfig({
      sinks: { out: { type: "memory", name: `\${${name}}` } },
    });
    assert.equal(config.sinks.out!.options.name, "from-process");
  } finally {
    Deno.env.delete(name);
  }
});

Deno.test("env: an unset variable is reported once at its key, even where it breaks a type", async () => {
  const error = await failure(loadConfig(
    { sinks: { out: { type: "${SINK_TYPE}" }, o2: { type: "memory", max_records: "${MAX}" } } },
    { env: {} },
  ));
  assert.equal(
    error.message,
    [
      '<object>: sinks.out.type: Environment variable "SINK_TYPE" is not set (set it, or give a default with ${SINK_TYPE:-value})',
      '<object>: sinks.o2.max_records: Environment variable "MAX" is not set (set it, or give a default with ${MAX:-value})',
    ].join("\n"),
  );
  assert.equal(error.problems[0]!.line, undefined);
});

Deno.test("object configs: defaults are filled for the framework and the plugins", async () => {
  const { config, file } = await loadConfig({
    server: {},
    loggers: { "": "info" },
    sources: { app: { type: "logger" } },
    sinks: { mem: { type: "memory" }, disk: { type: "file", path: "logs/app.log" } },
  }, { baseDir: "/srv/app" });
  assert.equal(file, "<object>");
  assert.equal(config.baseDir, "/srv/app");
  assert.equal(config.dataDir, "/srv/app/.sluice");
  assert.equal(config.server!.hostname, "127.0.0.1");
  assert.equal(config.server!.port, 9600);
  assert.equal(config.server!.max_body_bytes, 10 * 1024 * 1024);
  assert.deepEqual(config.loggers, { "": { level: 20, propagate: true } });
  const mem = config.sinks.mem!;
  assert.deepEqual(mem.inputs, []);
  assert.equal(mem.level, 0);
  assert.deepEqual(mem.buffer, {
    max_records: 10_000,
    max_bytes: 8 * 1024 * 1024,
    when_full: "block",
  });
  assert.equal(mem.fallback, undefined);
  assert.equal(mem.fallback_after, 30_000);
  assert.deepEqual(mem.options, { max_records: 100_000 });
  const disk = config.sinks.disk!;
  assert.equal(disk.options.path, "logs/app.log");
  assert.equal(disk.options.fsync, false);
  assert.equal((disk.options.format as { type: string }).type, "json");
});

Deno.test("object configs: sizes, durations and levels are parsed from their written forms", async () => {
  const { config } = await loadConfig({
    sinks: {
      out: {
        type: "memory",
        level: "WARNING",
        buffer: { max_records: "500", max_bytes: "1.5MiB", when_full: "drop_oldest" },
        fallback: "spare",
        fallback_after: "1m30s",
      },
      spare: { type: "memory", level: 25 },
    },
  });
  const out = config.sinks.out!;
  assert.equal(out.level, 30);
  assert.deepEqual(out.buffer, {
    max_records: 500,
    max_bytes: 1.5 * 1024 * 1024,
    when_full: "drop_oldest",
  });
  assert.equal(out.fallback, "spare");
  assert.equal(out.fallback_after, 90_000);
  assert.equal(config.sinks.spare!.level, 25);
});

Deno.test("files: relative paths resolve against the config file's directory, not the cwd", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "sluice.yaml");
    await Deno.writeTextFile(
      file,
      [
        "data_dir: state",
        "sources:",
        "  app: { type: logger }",
        "sinks:",
        "  disk: { type: file, path: logs/app.log, format: { type: text, pattern: '{message}' } }",
      ].join("\n"),
    );
    const { config, file: reported } = await loadConfig(file);
    assert.equal(reported, file);
    assert.equal(config.baseDir, dir);
    assert.equal(config.dataDir, join(dir, "state"));
    // For real: the file sink writes under the config's directory.
    assert.notEqual(Deno.cwd(), dir);
    await configure(file);
    try {
      getLogger("paths").info("written next to the config");
    } finally {
      await shutdown();
    }
    assert.equal(
      await Deno.readTextFile(join(dir, "logs", "app.log")),
      "written next to the config\n",
    );
  });
});

Deno.test("files: x- keys hold YAML anchors, and << merges them into components", async () => {
  const { config } = await parseConfigText(
    [
      "x-defaults: &defaults { type: memory, level: info, max_records: 10 }",
      "sinks:",
      "  a: *defaults",
      "  b: { <<: *defaults, max_records: 20 }",
    ].join("\n"),
    "anchors.yaml",
    { env: {} },
  );
  assert.deepEqual(
    Object.values(config.sinks).map((sink) => [sink.type, sink.level, sink.options.max_records]),
    [["memory", 20, 10], ["memory", 20, 20]],
  );
});

Deno.test("files: a missing file and an empty file", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "nope.yaml");
    const error = await failure(loadConfig(missing));
    assert.equal(error.message, `${missing}: Cannot read config: file not found`);
    // An empty config would run a pipeline that does nothing: an error, not an idle process.
    const empty = join(dir, "empty.yaml");
    await Deno.writeTextFile(empty, "# nothing configured yet\n");
    const blank = await failure(loadConfig(empty));
    assert.match(blank.message, new RegExp(`^${empty}:1:1: The config is empty`));
  });
});

Deno.test("files: YAML problems carry the file's own line and column", async () => {
  const error = await failure(parseConfigText(
    "sinks:\n  out:\n    type: memory\n    max_records: 0\n",
    "configs/app.yaml",
    { env: {} },
  ));
  assert.deepEqual(error.problems, [{
    file: "configs/app.yaml",
    line: 4,
    col: 18,
    path: "sinks.out.max_records",
    message: "Expected an integer of at least 1, got 0",
  }]);
});

Deno.test("modules: relative, absolute and file: URL specifiers load; a given type must match", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "plugins"));
    const plugin = join(dir, "plugins", "tag.ts");
    await Deno.writeTextFile(
      plugin,
      `import { definePlugin, s } from ${JSON.stringify(MOD)};
export default definePlugin({
  kind: "processor",
  type: "tag",
  description: "Adds a field.",
  options: s.object({ name: s.string(), value: s.string().default("yes") }),
  create: (options) => (record) => ({ ...record, fields: { ...record.fields, [options.name]: options.value } }),
});
`,
    );
    const file = join(dir, "sluice.yaml");
    await Deno.writeTextFile(
      file,
      [
        "sources:",
        "  app: { type: logger }",
        "processors:",
        "  a: { module: ./plugins/tag.ts, inputs: [app], name: a }",
        `  b: { module: ${JSON.stringify(plugin)}, inputs: [a], name: b }`,
        `  c: { module: ${
          JSON.stringify(pathToFileURL(plugin).href)
        }, type: tag, inputs: [b], name: c }`,
        "sinks:",
        "  out: { type: memory, inputs: [c] }",
      ].join("\n"),
    );
    const { config } = await loadConfig(file);
    assert.deepEqual(
      Object.values(config.processors).map((p) => [p.type, p.options]),
      [["tag", { name: "a", value: "yes" }], ["tag", { name: "b", value: "yes" }], [
        "tag",
        { name: "c", value: "yes" },
      ]],
    );
    // Records flow through all three for real.
    const name = `tagged-${crypto.randomUUID()}`;
    await configure({
      sources: { app: { type: "logger" } },
      processors: {
        a: { module: "./plugins/tag.ts", inputs: ["app"], name: "a" },
        c: { module: pathToFileURL(plugin).href, inputs: ["a"], name: "c", value: "!" },
      },
      sinks: { [name]: { type: "memory", inputs: ["c"] } },
    }, { baseDir: dir });
    try {
      getLogger("modules").info("hello");
    } finally {
      await shutdown();
    }
    assert.deepEqual(memoryRecords(name).map((r) => r.fields), [{ a: "yes", c: "!" }]);

    const mismatch = await failure(parseConfigText(
      "sources:\n  app: { type: logger }\nprocessors:\n  p: { module: ./plugins/tag.ts, type: label, inputs: [app], name: x }\n",
      "mismatch.yaml",
      { baseDir: dir },
    ));
    assert.equal(
      mismatch.message,
      'mismatch.yaml:4:40: processors.p.type: Module "./plugins/tag.ts" defines type "tag", not "label"',
    );
  });
});

Deno.test("modules: a module's options are validated like a built-in's", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "shout.ts"),
      `import { definePlugin, s } from ${JSON.stringify(MOD)};
export default definePlugin({
  kind: "formatter",
  type: "shout",
  description: "Upper case.",
  options: s.object({ suffix: s.string().default("!") }),
  create: (options) => (record) => record.message.toUpperCase() + options.suffix,
});
`,
    );
    const error = await failure(parseConfigText(
      "sinks:\n  out: { type: console, format: { module: ./shout.ts, sufix: '?' } }\n",
      "fmt.yaml",
      { baseDir: dir },
    ));
    assert.equal(
      error.message,
      'fmt.yaml:2:55: sinks.out.format.sufix: Unknown key "sufix" (did you mean "suffix"?)',
    );
    const loaded = await parseConfigText(
      "sinks:\n  out: { type: console, format: { module: ./shout.ts, suffix: '?' } }\n",
      "fmt.yaml",
      { baseDir: dir },
    );
    const spec = loaded.config.sinks.out!.options.format as {
      type: string;
      module: string;
      options: unknown;
    };
    assert.deepEqual(spec, { type: "shout", module: "./shout.ts", options: { suffix: "?" } });
    assert.equal(
      loaded.formatters({ type: "shout", module: "./shout.ts", options: {} })?.type,
      "shout",
    );
    assert.equal(loaded.formatters({ type: "json", options: {} })?.type, "json");
  });
});

Deno.test("a secret option knows whether the config held only ${VAR} references or the secret itself", () => {
  const schema = s.object({ keys: s.secret() });
  const fromEnvironment = new Set<string>();
  const issues: Issue[] = [];
  const raw = {
    a: { keys: "${K1}, ${K2}" },
    b: { keys: "literal" },
    c: { keys: "${K1:-fallback}" },
  };
  const expanded = expandEnv(raw, { K1: "one", K2: "two" }, [], issues, fromEnvironment) as Record<
    string,
    unknown
  >;
  const ctx = { issues, fromEnvironment: (path: Path) => fromEnvironment.has(pathKey(path)) };
  const parse = (id: string) => schema.parse(expanded[id], [id], ctx)!.keys;
  assert.deepEqual(parse("a"), { value: "one, two", fromEnvironment: true });
  assert.deepEqual(parse("b"), { value: "literal", fromEnvironment: false });
  assert.equal(parse("c").fromEnvironment, false, "a default written in the config is literal");
  assert.deepEqual(issues, []);
});

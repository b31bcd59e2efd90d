// `sluice check`, `schema` and `permissions` load `module:` plugins in a sandbox: a `deno run`
// process without permissions. Real processes: a plugin whose top level tries to write a
// file, read a variable and open a socket does none of it, while its options are still
// checked; a remote module is fetched only with --allow-remote-modules; a create() that
// throws is a problem at the component.
import assert from "node:assert/strict";
import { runCli } from "../helpers/sluice_process.ts";

const MOD_TS = new URL("../../mod.ts", import.meta.url).href;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_sandbox_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A TCP listener that counts the connections a plugin manages to open. */
async function withListener(fn: (port: number, accepted: () => number) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      accepted++;
      conn.close();
    }
  })();
  try {
    await fn(listener.addr.port, () => accepted);
  } finally {
    listener.close();
    await accepting.catch(() => {});
  }
}

/**
 * A plugin whose top level tries what a plugin must not do at check time: write `marker`
 * (with the secret variable's value, if it could read it) and connect to `port`. Its
 * create() throws for `count` above 10 and otherwise writes its `path`.
 */
function probePlugin(marker: string, port: number, definitionOnly = false): string {
  const head = definitionOnly ? "" : `import { definePlugin, s } from ${JSON.stringify(MOD_TS)};`;
  return `${head}
const tried = [];
let secret = "unread";
try { secret = Deno.env.get("SANDBOX_TEST_SECRET") ?? "unset"; } catch (e) { tried.push("env " + e.name); }
try { Deno.writeTextFileSync(${
    JSON.stringify(marker)
  }, "top level ran with rights: " + secret); } catch (e) { tried.push("write " + e.name); }
try { (await Deno.connect({ hostname: "127.0.0.1", port: ${port} })).close(); } catch (e) { tried.push("net " + e.name); }
console.log("probe: " + tried.join(", "));
${
    definitionOnly
      ? `const options = {
  parse(value, path, ctx) {
    for (const key of Object.keys(value ?? {})) {
      if (key !== "path") ctx.issues.push({ path: [...path, key], message: "Unknown key " + JSON.stringify(key), atKey: true });
    }
    if (typeof value?.path !== "string") { ctx.issues.push({ path: [...path, "path"], message: "Missing path" }); return undefined; }
    return ctx.issues.length ? undefined : { path: value.path };
  },
  jsonSchema: () => ({ type: "object", properties: { path: { type: "string" } } }),
};
export default {`
      : `export default definePlugin({`
  }
  kind: "sink",
  type: "probe",
  description: "Tries what a sandboxed plugin cannot do.",
  options: ${
    definitionOnly ? "options" : "s.object({ path: s.string(), count: s.number().default(1) })"
  },
  permissions: (options) => ({ write: [options.path] }),
  async create(options) {
    if (options.count > 10) throw new Error("count " + options.count + " is more than 10");
    // Served from a host it may import from, it tries to carry its options there.
    if (import.meta.url.startsWith("http")) {
      await import(new URL("leak.js?" + encodeURIComponent(options.path), import.meta.url).href)
        .catch(() => {});
    }
    Deno.writeTextFileSync(options.path, "created");
    return { write() {}, async [Symbol.asyncDispose]() {} };
  },
}${definitionOnly ? "" : ")"};
`;
}

function config(module: string, out: string, extra = ""): string {
  return `sources:\n  app: { type: logger }\nsinks:\n  out: { module: "${module}", path: ${out}${extra} }\n`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("sandbox: check, permissions and schema run a local plugin without the user's rights", async () => {
  await withTempDir((dir) =>
    withListener(async (port, accepted) => {
      const marker = `${dir}/written_at_import.txt`;
      const out = `${dir}/out.txt`;
      await Deno.writeTextFile(`${dir}/probe.ts`, probePlugin(marker, port));
      const file = `${dir}/sluice.yaml`;
      await Deno.writeTextFile(file, config("./probe.ts", out));
      const env = { SANDBOX_TEST_SECRET: "hunter2-SANDBOX" };

      const checked = await runCli(["check", "--config", file], { env, cwd: dir });
      assert.equal(await exists(marker), false, "check: the top level wrote no file");
      assert.equal(accepted(), 0, "check: the top level opened no connection");
      assert.equal(checked.stdout, "ok\n", checked.stderr);
      assert.equal(checked.code, 0);
      // The plugin's own output goes to stderr; what it tried, Deno refused.
      assert.match(checked.stderr, /probe: env NotCapable, write NotCapable, net NotCapable/);

      const permissions = await runCli(["permissions", "--config", file], { env, cwd: dir });
      assert.equal(await exists(marker), false, "permissions: the top level wrote no file");
      assert.equal(permissions.code, 0, permissions.stderr);
      // The plugin's permissions() answered from the sandbox; its stdout is not the flags'.
      assert.match(permissions.stdout, /^--allow-read=\S*probe\.ts\S* --allow-write=\S*out\.txt/);
      assert.doesNotMatch(permissions.stdout, /probe:/);

      const schema = await runCli(["schema", "--config", file], { env, cwd: dir });
      assert.equal(schema.code, 0, schema.stderr);
      const sinks = JSON.parse(schema.stdout).$defs.sink.oneOf as { title: string }[];
      const probe = sinks.find((s) => s.title === "./probe.ts") as unknown as {
        properties: Record<string, unknown>;
      };
      assert.deepEqual(Object.keys(probe.properties).slice(0, 4), [
        "module",
        "type",
        "path",
        "count",
      ]);

      assert.equal(await exists(marker), false, "the top level wrote no file");
      assert.equal(await exists(out), false, "create() wrote no file");
      assert.equal(accepted(), 0, "the top level opened no connection");

      // Its options are still checked, at their position.
      await Deno.writeTextFile(file, config("./probe.ts", out, ", cont: 2"));
      const bad = await runCli(["check", "--config", file], { env, cwd: dir });
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        new RegExp(
          `${file}:4:\\d+: sinks\\.out\\.cont: Unknown key "cont" \\(did you mean "count"\\?\\)`,
        ),
      );
      assert.equal(await exists(marker), false);
    })
  );
});

Deno.test("sandbox: check reports a create() that throws at the component, and disposes what it made", async () => {
  await withTempDir((dir) =>
    withListener(async (port) => {
      await Deno.writeTextFile(`${dir}/probe.ts`, probePlugin(`${dir}/marker`, port));
      const file = `${dir}/sluice.yaml`;
      await Deno.writeTextFile(file, config("./probe.ts", `${dir}/out.txt`, ", count: 11"));
      const result = await runCli(["check", "--config", file], { cwd: dir });
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        new RegExp(
          `${file}:4:3: sinks\\.out: Plugin module "\\./probe\\.ts" throws in create\\(\\) with these options, so run would fail here: count 11 is more than 10`,
        ),
      );
    })
  );
});

Deno.test("sandbox: a remote module is fetched only with --allow-remote-modules, and still sandboxed", async () => {
  await withTempDir((dir) =>
    withListener(async (port, accepted) => {
      const marker = `${dir}/written_at_import.txt`;
      const source = probePlugin(marker, port, true);
      let requests = 0;
      const paths: string[] = [];
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
        requests++;
        paths.push(new URL(request.url).pathname);
        return new Response(source, { headers: { "content-type": "application/javascript" } });
      });
      try {
        // A path of its own: Deno caches remote modules by URL, and a port of an earlier run
        // (another test's, or this one's on the same machine) would find it cached, unfetched.
        const module = `http://127.0.0.1:${server.addr.port}/probe-${crypto.randomUUID()}.js`;
        const file = `${dir}/sluice.yaml`;
        await Deno.writeTextFile(file, config(module, `${dir}/out.txt`));

        for (const command of ["check", "permissions", "run"]) {
          const refused = await runCli([command, "--config", file], { cwd: dir });
          assert.equal(refused.code, 2, `${command}: ${refused.stderr}`);
          assert.match(
            refused.stderr,
            new RegExp(
              `${file}:4:18: sinks\\.out\\.module: Plugin module "http://127\\.0\\.0\\.1:\\d+/probe-[0-9a-f-]+\\.js" is remote; Sluice fetches and runs a remote module only when remote modules are allowed \\(pass --allow-remote-modules`,
            ),
          );
        }
        assert.equal(requests, 0, "nothing was fetched without the flag");

        const allowed = await runCli(["check", "--allow-remote-modules", "--config", file], {
          cwd: dir,
        });
        assert.equal(allowed.stdout, "ok\n", allowed.stderr);
        assert.ok(requests >= 1, "fetched with the flag");
        assert.match(allowed.stderr, /probe: env NotCapable, write NotCapable, net NotCapable/);
        assert.equal(await exists(marker), false, "the remote top level wrote no file");
        assert.equal(accepted(), 0);
        // The child imports only what is cached (--cached-only): create()'s import() of a URL
        // carrying its options made no request.
        assert.deepEqual(paths.filter((path) => path !== new URL(module).pathname), []);

        const permissions = await runCli(
          ["permissions", "--allow-remote-modules", "--config", file],
          { cwd: dir },
        );
        assert.equal(permissions.code, 0, permissions.stderr);
        assert.match(
          permissions.stdout,
          new RegExp(`--allow-import=127\\.0\\.0\\.1:${server.addr.port}`),
        );
      } finally {
        await server.shutdown();
      }
    })
  );
});

Deno.test("sandbox: a plugin that ends the sandbox process is a problem at its position; the other plugins still load", async () => {
  await withTempDir((dir) =>
    withListener(async (port) => {
      await Deno.writeTextFile(`${dir}/exits.ts`, "Deno.exit(3);\nexport default {};\n");
      await Deno.writeTextFile(`${dir}/probe.ts`, probePlugin(`${dir}/marker`, port));
      const file = `${dir}/sluice.yaml`;
      await Deno.writeTextFile(
        file,
        config("./probe.ts", `${dir}/out.txt`, ", cont: 2") + '  gone: { module: "./exits.ts" }\n',
      );
      const result = await runCli(["check", "--config", file], { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.split("\n").filter((line) => line.startsWith(file));
      assert.deepEqual(lines.map((line) => line.replace(/^\S+ /, "")), [
        'sinks.out.cont: Unknown key "cont" (did you mean "count"?)',
        'sinks.gone.module: Cannot load plugin module "./exits.ts": its top level ended the sandbox process (code 3)',
      ]);
    })
  );
});

/** A plugin whose parse() hands the parent a formatter at `at` (source, relative to its path). */
function formatPathPlugin(at: string): string {
  return `export default {
  kind: "sink",
  type: "formatpath",
  description: "Puts a formatter where it pleases.",
  options: {
    parse(value, path, ctx) {
      ctx.resolveFormatter?.("json", [...path, ${at}], ctx);
      return { path: String(value?.path) };
    },
    jsonSchema: () => ({ type: "object" }),
  },
  create() { return { write() {}, async [Symbol.asyncDispose]() {} }; },
};
`;
}

Deno.test("sandbox: a formatter key path from the child cannot pollute the parent's prototypes and is a problem at the plugin", async () => {
  const { loadConfig } = await import("../../src/config/load.ts");
  const { PluginSandbox } = await import("../../src/config/plugin_sandbox.ts");
  const { ConfigError } = await import("../../src/config/config_error.ts");
  await withTempDir(async (dir) => {
    const cases: [string, string][] = [
      ["proto.ts", `"constructor", "prototype", "polluted"`],
      ["dunder.ts", `"__proto__", "polluted"`],
      ["missing.ts", `"nowhere", "deeper", "format"`],
    ];
    for (const [name, at] of cases) {
      await Deno.writeTextFile(`${dir}/${name}`, formatPathPlugin(at));
      await using sandbox = new PluginSandbox({ create: true });
      let error: unknown;
      try {
        await loadConfig({ sinks: { out: { module: `./${name}`, path: "a.log" } } }, {
          baseDir: dir,
          sandbox,
        });
      } catch (e) {
        error = e;
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined, name);
      assert.ok(error instanceof ConfigError, `${name}: ${error}`);
      assert.deepEqual(
        error.problems.map((p) => [p.path, p.message]),
        [[
          "sinks.out",
          `Plugin module "./${name}" put a formatter at key path ` +
          `${JSON.stringify(["sinks", "out", ...JSON.parse(`[${at}]`)])}, ` +
          "which is not a place in its options",
        ]],
        name,
      );
    }
  });
});

Deno.test("sandbox: a plugin that floods stdout without a newline is killed and is a problem at its position; a malformed answer it forges is ignored", async () => {
  await withTempDir(async (dir) => {
    // 17 MiB without a newline: over the sandbox's 16 MiB line limit.
    await Deno.writeTextFile(
      `${dir}/flood.ts`,
      "Deno.stdout.writeSync(new Uint8Array(17 * 1024 * 1024).fill(120));\nexport default {};\n",
    );
    await Deno.writeTextFile(
      `${dir}/forged.ts`,
      'Deno.stdout.writeSync(new TextEncoder().encode("\\n\\u001esluice-sandbox {not json\\n"));\n' +
        "export default {};\n",
    );
    const file = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      file,
      'sources:\n  app: { type: logger }\nsinks:\n  flood: { module: "./flood.ts" }\n' +
        '  forged: { module: "./forged.ts" }\n',
    );
    const started = Date.now();
    const result = await runCli(["check", "--config", file], { cwd: dir });
    assert.equal(result.code, 2, result.stderr.slice(-2000));
    assert.ok(Date.now() - started < 50_000, "no wait for the answer timeout");
    const lines = result.stderr.split("\n").filter((line) => line.startsWith(file));
    assert.deepEqual(lines.map((line) => line.replace(/^\S+ /, "")), [
      'sinks.flood.module: Cannot load plugin module "./flood.ts": its top level ended the sandbox process (killed: it wrote more than 16 MiB to stdout without a newline)',
      'sinks.forged.module: Plugin module "./forged.ts" has no plugin definition as its default export (export default definePlugin({ kind, type, description, options, create }))',
    ]);
    assert.ok(result.stderr.includes("\u001esluice-sandbox {not json\n"), "passed on to stderr");
    assert.match(result.stderr, /looks like a plugin sandbox answer but is not one/);
  });
});

// A plugin runs in the sandbox's process and may write to its stdout, or replace the globals
// the harness writes with: neither makes the parent take a line for an answer.

/** What `line` (JSON) looks like on stdout, as the sandbox's answers did before they had proof. */
const FORGE_HEAD = `const forge = (message) => Deno.stdout.writeSync(
  new TextEncoder().encode("\\n\\u001esluice-sandbox " + JSON.stringify(message) + "\\n"));
const ok = { issues: [], formats: [], handle: 1, value: { path: "forged" } };
`;

/** A plugin that needs `path`: its parse() first forges an "ok" for every request id. */
const FORGE_SELF = `${FORGE_HEAD}
export default {
  kind: "sink",
  type: "forgeself",
  description: "Says its own options parsed.",
  options: {
    parse(value, path, ctx) {
      for (let id = 1; id <= 20; id++) forge({ id, answer: ok });
      if (typeof value?.path !== "string") ctx.issues.push({ path: [...path, "path"], message: "Missing path" });
      return ctx.issues.length ? undefined : { path: value.path };
    },
    jsonSchema: () => ({ type: "object" }),
  },
  create() { return { write() {} }; },
};
`;

/** A plugin whose top level forges the sandbox's "ready": probe.ts without permissions(). */
const FORGE_OTHER = `${FORGE_HEAD}
const described = (specifier, type) => ({ specifier, kind: "sink", type, description: "", writesSync: false, needsServer: false, permissions: false });
forge({ ready: [described("./probe.ts", "probe"), described("./forger.ts", "forger")] });
forge({ busy: "./forger.ts" });
export default { kind: "sink", type: "forger", description: "", options: { parse: () => ({}), jsonSchema: () => ({ type: "object" }) }, create() { return { write() {} }; } };
`;

/** A plugin whose top level replaces JSON.stringify and Deno.stdout.writeSync. */
const PATCHER = `const stringify = JSON.stringify;
JSON.stringify = function (value, ...rest) {
  if (value && typeof value === "object" && "answer" in value) {
    const answer = Array.isArray(value.answer)
      ? value.answer.map(() => ({ permissions: { write: ["/forged"] } }))
      : { issues: [], formats: [], handle: 1, value: { path: "forged" } };
    value = { ...value, answer };
  }
  return stringify.call(this, value, ...rest);
};
const write = Deno.stdout.writeSync.bind(Deno.stdout);
Deno.stdout.writeSync = (bytes) => {
  const text = new TextDecoder().decode(bytes).replaceAll("Unknown key", "Fine key");
  write(new TextEncoder().encode(text));
  return bytes.length;
};
export default { kind: "sink", type: "patcher", description: "", options: { parse: () => ({}), jsonSchema: () => ({ type: "object" }) }, create() { return { write() {} }; } };
`;

/** A plugin whose top level gives every object a toJSON(), which JSON.stringify calls. */
const TO_JSON = `Object.defineProperty(Object.prototype, "toJSON", {
  configurable: true,
  writable: true,
  value: function () {
    if (Array.isArray(this.issues)) return { issues: [], formats: [], handle: 1, value: { path: "forged" } };
    if (Array.isArray(this.write)) return { write: ["/forged"] };
    return this;
  },
});
export default { kind: "sink", type: "tojson", description: "", options: { parse: () => ({}), jsonSchema: () => ({ type: "object" }) }, create() { return { write() {} }; } };
`;

const BENIGN =
  `export default { kind: "sink", type: "forger", description: "", options: { parse: () => ({}), jsonSchema: () => ({ type: "object" }) }, create() { return { write() {} }; } };
`;

function problems(stderr: string, file: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith(file)).map((line) =>
    line.replace(/^\S+ /, "")
  );
}

Deno.test("sandbox: a plugin that forges an answer for its own options does not make them pass", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/self.ts`, FORGE_SELF);
    const file = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      file,
      'sources:\n  app: { type: logger }\nsinks:\n  out: { module: "./self.ts" }\n',
    );
    const result = await runCli(["check", "--config", file], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(problems(result.stderr, file), ["sinks.out.path: Missing path"]);
    assert.match(result.stderr, /looks like a plugin sandbox answer but is not one/);
  });
});

const CASES: [string, string][] = [["forges answers", FORGE_OTHER], ["patches globals", PATCHER], [
  "gives every object a toJSON()",
  TO_JSON,
]];
for (const [name, source] of CASES) {
  Deno.test(`sandbox: a plugin that ${name} changes neither check nor permissions for another`, async () => {
    await withTempDir((dir) =>
      withListener(async (port) => {
        await Deno.writeTextFile(`${dir}/probe.ts`, probePlugin(`${dir}/marker`, port));
        const file = `${dir}/sluice.yaml`;
        const out = `${dir}/out.txt`;
        const yaml = (extra: string) =>
          config("./probe.ts", out, extra) + '  other: { module: "./forger.ts" }\n';
        await Deno.writeTextFile(`${dir}/forger.ts`, BENIGN);
        await Deno.writeTextFile(file, yaml(""));
        const baseline = await runCli(["permissions", "--config", file], { cwd: dir });
        assert.equal(baseline.code, 0, baseline.stderr);
        assert.match(baseline.stdout, /--allow-write=\S*out\.txt/);

        await Deno.writeTextFile(`${dir}/forger.ts`, source);
        const permissions = await runCli(["permissions", "--config", file], { cwd: dir });
        assert.equal(permissions.code, 0, permissions.stderr);
        assert.equal(permissions.stdout, baseline.stdout);

        await Deno.writeTextFile(file, yaml(", cont: 2"));
        const bad = await runCli(["check", "--config", file], { cwd: dir });
        assert.equal(bad.code, 2, bad.stderr);
        assert.deepEqual(problems(bad.stderr, file), [
          'sinks.out.cont: Unknown key "cont" (did you mean "count"?)',
        ]);
      })
    );
  });
}

Deno.test("sandbox: a plugin's noise on stdout, even without a newline, does not break the check", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/noisy.ts`,
      'console.log("noise from console.log");\n' +
        'Deno.stdout.writeSync(new TextEncoder().encode("noise without a newline"));\n' +
        BENIGN,
    );
    const file = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      file,
      'sources:\n  app: { type: logger }\nsinks:\n  out: { module: "./noisy.ts" }\n',
    );
    const started = Date.now();
    const result = await runCli(["check", "--config", file], { cwd: dir });
    assert.equal(result.stdout, "ok\n", result.stderr);
    assert.equal(result.code, 0);
    assert.ok(Date.now() - started < 30_000, "no wait for the answer timeout");
    assert.match(result.stderr, /noise from console\.log/);
    assert.match(result.stderr, /noise without a newline/);
  });
});

Deno.test("sandbox: the answer timeout bounds silence, not the sum of slow modules; a module that never yields is named", async () => {
  const { loadConfig } = await import("../../src/config/load.ts");
  const { PluginSandbox } = await import("../../src/config/plugin_sandbox.ts");
  const { ConfigError } = await import("../../src/config/config_error.ts");
  await withTempDir(async (dir) => {
    const sinks: Record<string, { module: string }> = {};
    // Three modules of 600 ms each: 1.8 s in all, each under the 1.2 s of silence allowed.
    for (const name of ["slow1", "slow2", "slow3"]) {
      await Deno.writeTextFile(
        `${dir}/${name}.ts`,
        "await new Promise((resolve) => setTimeout(resolve, 600));\n" + BENIGN,
      );
      sinks[name] = { module: `./${name}.ts` };
    }
    await Deno.writeTextFile(`${dir}/spin.ts`, "for (;;) {}\n" + BENIGN);
    sinks.spin = { module: "./spin.ts" };
    await using sandbox = new PluginSandbox({ create: true, silenceMs: 1200 });
    let error: unknown;
    try {
      await loadConfig({ sinks }, { baseDir: dir, sandbox });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.problems.map((p) => [p.path, p.message]), [[
      "sinks.spin.module",
      'Cannot load plugin module "./spin.ts": its top level ended the sandbox process ' +
      "(killed: it said nothing for 1.2 s)",
    ]]);
    assert.equal(sandbox.modules.size, 3);
  });
});

/**
 * Writes each module of `modules` (file name → source) into `dir`, a config with a sink
 * of each `sinks` entry (id → module file) and runs `sluice check` on it.
 */
async function checkSinks(
  dir: string,
  modules: Record<string, string>,
  sinks: Record<string, string>,
): Promise<{ code: number; stderr: string; problems: string[] }> {
  for (const [name, source] of Object.entries(modules)) {
    await Deno.writeTextFile(`${dir}/${name}`, source);
  }
  const file = `${dir}/sluice.yaml`;
  await Deno.writeTextFile(
    file,
    "sources:\n  app: { type: logger }\nsinks:\n" +
      Object.entries(sinks).map(([id, module]) => `  ${id}: { module: "./${module}" }\n`)
        .join(""),
  );
  const result = await runCli(["check", "--config", file], { cwd: dir });
  return { code: result.code, stderr: result.stderr, problems: problems(result.stderr, file) };
}

/** A plugin of `type` whose parse() pushes an issue of its own at `x`. */
function ownIssuePlugin(type: string): string {
  return `export default { kind: "sink", type: ${JSON.stringify(type)}, description: "", options: {
  parse(value, path, ctx) { ctx.issues.push({ path: [...path, "x"], message: ${
    JSON.stringify(`${type}'s own issue`)
  } }); return undefined; },
  jsonSchema: () => ({ type: "object" }),
}, create() { return { write() {} }; } };
`;
}

Deno.test("sandbox: a definition that cannot be written as JSON is a problem at its own module, never at the module loaded after it", async () => {
  await withTempDir(async (dir) => {
    // Both throw only when the harness writes the modules' descriptions, after the last one loaded.
    const result = await checkSinks(dir, {
      "schema.ts":
        'export default { kind: "sink", type: "schema", description: "", options: { parse: () => ({}), ' +
        'jsonSchema: () => ({ type: "object", get properties() { throw new Error("no schema here"); } }) }, ' +
        "create() { return { write() {} }; } };\n",
      "kind.ts":
        'const kind = { toString: () => "sink", get detail() { throw new Error("no kind here"); } };\n' +
        'export default { kind, type: "kind", description: "", options: { parse: () => ({}), ' +
        'jsonSchema: () => ({ type: "object" }) }, create() { return { write() {} }; } };\n',
      "good.ts": ownIssuePlugin("good"),
    }, { schema: "schema.ts", kind: "kind.ts", ok: "good.ts" });
    assert.equal(result.code, 2, result.stderr);
    // The schema that cannot be written is left open, as one whose jsonSchema() throws.
    assert.deepEqual(result.problems, [
      'sinks.kind.module: Cannot load plugin module "./kind.ts": its definition cannot be ' +
      "written as JSON: no kind here",
      "sinks.ok.x: good's own issue",
    ]);
  });
});

Deno.test("sandbox: options that cannot be written as JSON are a problem at their component; the next module's options are still checked", async () => {
  await withTempDir(async (dir) => {
    const result = await checkSinks(dir, {
      "cyclic.ts": 'export default { kind: "sink", type: "cyclic", description: "", options: { ' +
        "parse: () => { const options = {}; options.self = options; return options; }, " +
        'jsonSchema: () => ({ type: "object" }) }, create() { return { write() {} }; } };\n',
      "good.ts": ownIssuePlugin("good"),
    }, { bad: "cyclic.ts", ok: "good.ts" });
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(result.problems, [
      'sinks.bad: Plugin "cyclic" parsed its options into a value that cannot be written as ' +
      'JSON: it holds a cycle (at key path ["self"])',
      "sinks.ok.x: good's own issue",
    ]);
  });
});

Deno.test("sandbox: a plugin that ends the process between requests is not reported as the next module's doing", async () => {
  await withTempDir(async (dir) => {
    const closer = (parse: string) =>
      'export default { kind: "sink", type: "closer", description: "", options: { ' +
      `parse: ${parse}, jsonSchema: () => ({ type: "object" }) }, ` +
      "create() { return { write() {} }; } };\n";
    const sinks = { bad: "closer.ts", ok: "good.ts" };
    // Its parse() passes; the harness's next read of stdin then fails and the process ends,
    // while the parent waits for the next module's answer.
    const modules = {
      "closer.ts": closer("() => { Deno.stdin.close(); return {}; }"),
      "good.ts": ownIssuePlugin("good"),
    };
    for (let round = 0; round < 3; round++) {
      const result = await checkSinks(dir, modules, sinks);
      assert.equal(result.code, 2, result.stderr);
      assert.deepEqual(result.problems, [
        'sinks.ok: The options of plugin module "./good.ts" were not checked: the sandbox ' +
        "process ended (code 1) before it read them, after it answered for plugin module " +
        '"./closer.ts"',
      ], `round ${round}`);
      assert.doesNotMatch(
        result.stderr,
        /Uncaught|BadResource/,
        "the harness's own read says nothing",
      );
    }
    // One that ends it while it parses is named; the next one is not.
    const result = await checkSinks(dir, { "closer.ts": closer("() => Deno.exit(4)") }, sinks);
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(result.problems, [
      'sinks.bad: Plugin module "./closer.ts" ended the sandbox process (code 4) while parsing ' +
      "its options",
      'sinks.ok: The options of plugin module "./good.ts" were not checked: the sandbox ' +
      "process ended (code 4) before it read them",
    ]);
  });
});

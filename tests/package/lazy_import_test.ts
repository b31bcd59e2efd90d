/**
 * Importing mod.ts loads no npm package: yaml loads when YAML is parsed, hono when a server
 * starts, nats and postgres when a component of their plugins is created. Shown two ways: the
 * module graph `deno info` prints (mod.ts's names no npm package at all: the library imports
 * them with `importNpm()`, which Deno's graph does not see; the CLI's names them all, so
 * installing the CLI caches them), and real processes with an empty Deno cache and
 * `--cached-only`, where any npm package that loads fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import { layeredFiles } from "../../scripts/source_files.ts";
import { npmPackages } from "../../src/cli/npm_packages.ts";
import { importNpm } from "../../src/core/import_npm.ts";

const ROOT = new URL("../../", import.meta.url);

interface InfoDependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  kind: string;
  dependencies?: InfoDependency[];
}

/** The npm packages `deno info` lists for `entry`: all of them, and those static imports reach. */
async function npmPackagesOf(entry: string): Promise<{ all: string[]; statically: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", fileURLToPath(new URL(entry, ROOT))],
    cwd: fileURLToPath(ROOT),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const byName = new Map(info.modules.map((m) => [m.specifier, m]));
  const name = (specifier: string) => /^npm:\/?((?:@[^/]+\/)?[^@/]+)/.exec(specifier)?.[1];
  const all = new Set<string>();
  for (const m of info.modules) if (m.kind === "npm") all.add(name(m.specifier)!);
  const statically = new Set<string>();
  const seen = new Set<string>();
  const stack = [info.roots[0]!];
  while (stack.length > 0) {
    const next = stack.pop()!;
    const specifier = info.redirects[next] ?? next;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    if (specifier.startsWith("npm:")) {
      statically.add(name(specifier)!);
      continue;
    }
    for (const dependency of byName.get(specifier)?.dependencies ?? []) {
      // Type-only imports load nothing; dynamic ones load when their code runs.
      if (dependency.isDynamic || !dependency.code) continue;
      stack.push(dependency.code.specifier);
    }
  }
  assert.ok(seen.size > 50, `only ${seen.size} modules reached from ${entry}`);
  return { all: [...all].sort(), statically: [...statically].sort() };
}

/** Runs `source` from a temp dir with an empty Deno cache that may not be filled. */
async function runWithoutPackages(source: string): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_lazy_" });
  try {
    await Deno.mkdir(`${dir}/deno_dir`);
    await Deno.writeTextFile(`${dir}/script.ts`, source);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--cached-only", `${dir}/script.ts`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_DIR: `${dir}/deno_dir` },
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MOD = JSON.stringify(new URL("mod.ts", ROOT).href);

Deno.test("deno info: mod.ts names no npm package; the CLI names them all, none statically", async () => {
  const mod = await npmPackagesOf("mod.ts");
  assert.deepEqual(mod.all, []);
  // The CLI's graph holds every package the library imports on demand (src/cli/npm_packages.ts),
  // so `deno install` and `deno cache` of it cache them, and hono for the server.
  const cli = await npmPackagesOf("src/cli/main.ts");
  assert.deepEqual(cli.statically, []);
  assert.deepEqual(cli.all, [
    "@nats-io/jetstream",
    "@nats-io/transport-node",
    "hono",
    "postgres",
    "yaml",
  ]);
  // `sluice run` loads hono only when it starts its server.
  const run = await npmPackagesOf("src/cli/commands/run.ts");
  assert.deepEqual(run.statically, []);
  assert.ok(run.all.includes("hono"));
});

/** The specifiers the library passes to `importNpm()`, by file; throws on a non-literal one. */
async function importNpmCallSites(): Promise<Map<string, string[]>> {
  const root = fileURLToPath(ROOT);
  const sites = new Map<string, string[]>();
  for (const file of layeredFiles(root)) {
    const name = relative(root, file);
    if (name === "src/core/import_npm.ts") continue;
    // Outside comments: doc examples are not the module's imports.
    const code = (await Deno.readTextFile(file)).replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|\s)\/\/.*$/gm, "$1");
    for (const m of code.matchAll(/\bimportNpm\s*(?:<[^>(]*>)?\(\s*(?:"(npm:[^"]+)")?/g)) {
      // A specifier the CLI's list cannot see would not be cached at install.
      assert.ok(m[1], `${name}: importNpm() is called with a non-literal specifier`);
      sites.set(m[1], [...sites.get(m[1]) ?? [], name]);
    }
  }
  return sites;
}

Deno.test("the CLI's npm packages are exactly the specifiers the library passes to importNpm()", async () => {
  const sites = await importNpmCallSites();
  assert.deepEqual([...sites.keys()].sort(), Object.keys(npmPackages).sort());
  // Each entry imports its own specifier, the one deno.json maps (so tests load the same).
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    imports: Record<string, string>;
  };
  const mapped = new Set(Object.values(denoJson.imports));
  for (const [specifier, load] of Object.entries(npmPackages)) {
    assert.ok(String(load).includes(`import(${JSON.stringify(specifier)})`), String(load));
    assert.ok(mapped.has(specifier), `${specifier} is not a range deno.json maps`);
    // One module: what the CLI caches is what the library loads.
    assert.equal(await load(), await importNpm(specifier), specifier);
  }
  assert.ok(sites.get("npm:yaml@^2.9.1")?.includes("src/config/yaml_document.ts"));
  assert.ok(sites.get("npm:postgres@^3.4.9")?.includes("plugins/sinks/postgres/mod.ts"));
});

Deno.test("importing mod.ts and configuring from an object loads no npm package", async () => {
  const result = await runWithoutPackages(`import { configure, getLogger, shutdown } from ${MOD};
await configure({
  sources: { app: { type: "logger" } },
  sinks: { out: { type: "memory" } },
});
getLogger("app").info("no npm package needed");
await shutdown();
`);
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("yaml loads when a YAML config is parsed, not before", async () => {
  const result = await runWithoutPackages(`import { parseConfigText } from ${MOD};
console.error("imported");
await parseConfigText("sinks:\\n  out: { type: memory }\\n", "a.yaml");
`);
  // With no package in the cache, the first YAML parse is what asks for one.
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /^imported\n/);
  assert.match(result.stderr, /npm package not found in cache: "yaml"/);
});

Deno.test("a config naming the nats or postgres plugin is checked without its package and loads it to start", async () => {
  for (
    const [sink, wanted] of [
      [
        { type: "postgres", url: "postgres://sluice@127.0.0.1:9/logs" },
        /npm package not found in cache: "postgres"/,
      ],
      [
        { type: "nats", servers: ["127.0.0.1:9"], stream: "LOGS", subject: "logs.app" },
        /npm package not found in cache: "@nats-io\/(transport-node|jetstream)"/,
      ],
    ] as const
  ) {
    const config = JSON.stringify({ sources: { app: { type: "logger" } }, sinks: { out: sink } });
    const result = await runWithoutPackages(`import { configure, loadConfig } from ${MOD};
await loadConfig(${config});
console.error("checked");
try {
  await configure(${config});
} catch (error) {
  for (let e = error; e; e = e.cause) console.error(e.message);
  Deno.exit(3);
}
`);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /^checked\n/);
    assert.match(result.stderr, wanted);
  }
});

/**
 * Importing mod.ts loads no npm package: yaml loads when YAML is parsed, hono when a server
 * starts, nats and postgres when a config names their plugins. Shown two ways: the module
 * graph `deno info` prints (its static imports reach no npm package; what it lists beyond
 * them is reached only through a dynamic `import()`), and real processes with an empty
 * Deno cache and `--cached-only`, where any npm package that loads fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

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

Deno.test("deno info: mod.ts and the CLI reach no npm package through static imports", async () => {
  const mod = await npmPackagesOf("mod.ts");
  assert.deepEqual(mod.statically, []);
  // What deno info lists for mod.ts is only what a config may load on demand.
  assert.deepEqual(mod.all, [
    "@nats-io/jetstream",
    "@nats-io/transport-node",
    "postgres",
    "yaml",
  ]);
  assert.deepEqual((await npmPackagesOf("src/cli/main.ts")).statically, []);
  // `sluice run` loads hono only when it starts its server.
  const run = await npmPackagesOf("src/cli/commands/run.ts");
  assert.deepEqual(run.statically, []);
  assert.ok(run.all.includes("hono"));
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

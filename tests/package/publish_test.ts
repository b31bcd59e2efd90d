/**
 * What `deno publish` ships: a licensed package of the library, the CLI, the plugins and
 * their docs, depending only on its runtime packages, by caret ranges.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The runtime npm packages: what a user of the package resolves. */
const RUNTIME = ["@nats-io/jetstream", "@nats-io/transport-node", "hono", "postgres", "yaml"];

interface DenoJson {
  license?: string;
  imports: Record<string, string>;
  scopes: Record<string, Record<string, string>>;
  tasks: Record<string, string>;
}
const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as DenoJson;

/** The files a dry run would publish, relative to the root (one dry run for every test). */
let published: Promise<string[]> | undefined;
function publishedFiles(): Promise<string[]> {
  return published ??= dryRun();
}

async function dryRun(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /Dry run complete/);
  const root = new URL("../../", import.meta.url).href;
  return [...text.matchAll(/^\s+(file:\/\/\S+)/gm)].map((m) => m[1]!.slice(root.length));
}

Deno.test("the package is MIT licensed, by its LICENSE file and deno.json", async () => {
  assert.equal(denoJson.license, "MIT");
  const license = await Deno.readTextFile(`${ROOT}LICENSE`);
  assert.match(license, /^MIT License\n/);
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS"/);
});

Deno.test("deno publish ships the library, the CLI, the plugins and their docs, nothing else", async () => {
  const files = await publishedFiles();
  for (const wanted of ["LICENSE", "README.md", "mod.ts", "src/cli/main.ts", "plugins/mod.ts"]) {
    assert.ok(files.includes(wanted), `${wanted} is not published`);
  }
  assert.ok(files.some((f) => f.startsWith("docs/")));
  const stray = files.filter((f) => /^(tests|bench|scripts|\.ci)\//.test(f) || f === "deno.lock");
  assert.deepEqual(stray, []);
  const top = new Set(files.map((f) => f.split("/")[0]));
  assert.deepEqual([...top].sort(), [
    "LICENSE",
    "README.md",
    "config",
    "deno.json",
    "docs",
    "examples",
    "mod.ts",
    "plugins",
    "src",
  ]);
});

Deno.test("published code names only the runtime packages, by the caret ranges deno.json maps", async () => {
  const files = (await publishedFiles()).filter((f) => f.endsWith(".ts"));
  const used = new Map<string, string>();
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}${file}`);
    // Import and importNpm() specifiers only: doc comments show users' own imports ("hono").
    for (
      const m of text.matchAll(
        /(?:from\s+|import\(\s*|importNpm(?:<\w+>)?\(\s*)"npm:((?:@[^/@"]+\/)?[^/@"]+)@([^/"]+)/g,
      )
    ) {
      const [, name, range] = m;
      assert.ok(RUNTIME.includes(name!), `${file} imports npm:${name}, not a runtime package`);
      assert.match(
        range!,
        /^\^\d+\.\d+\.\d+$/,
        `${file}: npm:${name}@${range} is not a caret range`,
      );
      const previous = used.get(name!);
      assert.ok(previous === undefined || previous === range, `${name}: ${previous} and ${range}`);
      used.set(name!, range!);
    }
  }
  assert.deepEqual([...used.keys()].sort(), RUNTIME);
  // The import map (tests, bench, docs examples) resolves them to the same ranges, so one
  // version is locked; test- and bench-only packages stay in scopes a user never resolves.
  for (const name of RUNTIME) assert.equal(denoJson.imports[name], `npm:${name}@${used.get(name)}`);
  const unmapped = Object.keys(denoJson.imports).filter((k) =>
    !RUNTIME.includes(k.replace(/\/$/, ""))
  );
  assert.deepEqual(unmapped, []);
  for (const scoped of ["ajv", "fast-check", "protobufjs", "@opentelemetry/api"]) {
    assert.ok(denoJson.scopes["./tests/"]?.[scoped], `${scoped} is not in the tests scope`);
  }
});

Deno.test("deno task check runs deno publish --dry-run", () => {
  assert.match(denoJson.tasks.check!, /deno publish (-q )?--dry-run --allow-dirty/);
});

/**
 * Part of `deno task check`: keeps docs/architecture.md true. Fails when
 *
 * - a file imports a higher layer (core ← contract ← shared helpers ← plugins ← engine ←
 *   server, CLI; the table below is the one in docs/architecture.md),
 * - a plugin imports another plugin's files (what two plugins share belongs in `src/`),
 * - a directory of `src/` is in no layer (a new one is placed here and in the map), or
 * - a file in `src/` or `plugins/` has more than 600 lines (one job per file).
 *
 * Imports are read from the text: static `import`/`export … from`, side-effect imports and
 * `import("…")` with a literal, outside comments (doc examples are not the module's imports).
 * Only relative specifiers count; `npm:` and `node:` ones are outside the tree.
 *
 * @module
 */

import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { layeredFiles } from "./source_files.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Most lines of a file in src/ or plugins/ (RULES.md: "no file over about 600 lines"). */
const MAX_LINES = 600;

/** The layers, lowest first: a file may import its own layer and those below it. */
const LAYERS: readonly (readonly [level: number, name: string, prefixes: readonly string[]])[] = [
  [0, "core", ["src/core/"]],
  [1, "plugin contract", ["src/plugin/", "src/schema/"]],
  [2, "shared helpers", [
    "src/io/",
    "src/format/",
    "src/parse/",
    "src/crypto/",
    "src/ingest/",
    "src/store/",
    "src/nats/",
    "src/logger/",
  ]],
  [3, "plugins", ["plugins/"]],
  [4, "engine", ["src/pipeline/", "src/config/", "src/library/"]],
  [5, "server and CLI", ["src/server/", "src/cli/", "src/hono/", "mod.ts"]],
];

/** The layer of a path relative to the root, or undefined outside the layered tree. */
function layerOf(path: string): { level: number; name: string } | undefined {
  for (const [level, name, prefixes] of LAYERS) {
    if (prefixes.some((prefix) => path === prefix || path.startsWith(prefix))) {
      return { level, name };
    }
  }
  return undefined;
}

/** `plugins/sinks/http/presets/loki.ts` → `plugins/sinks/http`; the registry has none. */
function pluginOf(path: string): string | undefined {
  const parts = path.split("/");
  if (parts[0] !== "plugins" || parts.length < 3) return undefined;
  return parts.slice(0, 3).join("/").replace(/\.ts$/, "");
}

/** The relative specifiers a module imports, outside comments. */
export function importsOf(text: string): string[] {
  // Block comments (JSDoc and its examples) and line comments go; a `//` inside a string
  // is kept by requiring the comment to start a line or follow white space.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
  const specifiers: string[] = [];
  const patterns = [
    /(?:^|[;}\s])(?:import|export)\s[^;"']*?\sfrom\s*["']([^"']+)["']/g,
    /(?:^|[;}\s])import\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) specifiers.push(match[1]!);
  }
  return specifiers.filter((s) => s.startsWith("."));
}

const problems: string[] = [];
for (const entry of Deno.readDirSync(join(ROOT, "src"))) {
  if (entry.isDirectory && !layerOf(`src/${entry.name}/`)) {
    problems.push(
      `src/${entry.name}/ is in no layer: add it to LAYERS in scripts/check_layout.ts and to docs/architecture.md`,
    );
  }
}
for (const file of layeredFiles(ROOT)) {
  const path = relative(ROOT, file);
  const text = Deno.readTextFileSync(file);
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (path !== "mod.ts" && lines > MAX_LINES) {
    problems.push(
      `${path}: ${lines} lines (at most ${MAX_LINES}): split it into files of one job each`,
    );
  }
  const from = layerOf(path);
  if (!from) continue;
  const plugin = pluginOf(path);
  for (const specifier of importsOf(text)) {
    const target = normalize(join(dirname(path), specifier));
    const to = layerOf(target);
    if (to && to.level > from.level) {
      problems.push(
        `${path} imports ${target}: the ${from.name} layer may not import the ${to.name} layer above it`,
      );
    }
    const targetPlugin = pluginOf(target);
    if (plugin && targetPlugin && targetPlugin !== plugin) {
      problems.push(
        `${path} imports ${target} of another plugin: move what both use to src/ (shared helpers)`,
      );
    }
  }
}
if (problems.length > 0) {
  console.error(`Layout rules broken (${problems.length}, see docs/architecture.md):`);
  for (const problem of problems) console.error(`  ${problem}`);
  Deno.exit(1);
}

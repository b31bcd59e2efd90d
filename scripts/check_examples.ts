/**
 * Part of `deno task check`: fails when a doc example anywhere in the repository's code
 * (mod.ts, src/, plugins/, config/, examples/, bench/, scripts/) cannot fail.
 * `console.assert` only prints "Assertion failed" and `deno test --doc` still reports the
 * example as passed; an example that checks a YAML string for its own text is true by
 * construction. Examples assert with `node:assert/strict` and load YAML through
 * `parseConfigText` instead.
 *
 * @module
 */

import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { layeredFiles, sourceFiles } from "./source_files.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** What an example must not do, and what to do instead. */
const BANNED: readonly (readonly [RegExp, string])[] = [
  [/\bconsole\.assert\(/, "use assert from node:assert/strict (console.assert cannot fail)"],
  [
    /\byaml\.includes\(/,
    "load the YAML with parseConfigText and assert on the config (includes() cannot fail)",
  ],
];

const problems: string[] = [];
// Not only the layered code: a user copies examples from config/examples/ and bench/ too.
const files = [
  ...layeredFiles(ROOT),
  ...["config", "examples", "bench", "scripts"].flatMap((dir) => [...sourceFiles(join(ROOT, dir))]),
].filter((file) => !file.endsWith("check_examples.ts"));
for (const file of files) {
  const lines = Deno.readTextFileSync(file).split("\n");
  for (let i = 0; i < lines.length; i++) {
    // Examples live in doc comments; code that checks a string's contents is not an example.
    if (!/^\s*\*/.test(lines[i]!)) continue;
    for (const [pattern, advice] of BANNED) {
      if (pattern.test(lines[i]!)) {
        problems.push(`${relative(ROOT, file)}:${i + 1}: ${advice}`);
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`Doc examples that cannot fail (${problems.length}):\n${problems.join("\n")}`);
  Deno.exit(1);
}

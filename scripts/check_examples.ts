/**
 * Part of `deno task check`: fails when a doc example in mod.ts, src/ or plugins/ cannot fail.
 * `console.assert` only prints "Assertion failed" and `deno test --doc` still reports the
 * example as passed; an example that checks a YAML string for its own text is true by
 * construction. Examples assert with `node:assert/strict` and load YAML through
 * `parseConfigText` instead.
 *
 * @module
 */

import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { layeredFiles } from "./source_files.ts";

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
for (const file of layeredFiles(ROOT)) {
  const lines = Deno.readTextFileSync(file).split("\n");
  for (let i = 0; i < lines.length; i++) {
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

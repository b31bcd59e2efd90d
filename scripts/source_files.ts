/**
 * The TypeScript files the check scripts read.
 *
 * @module
 */

import { join } from "node:path";

/** Every `.ts` file below `dir`, depth first. */
export function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.isFile && path.endsWith(".ts")) yield path;
  }
}

/** `mod.ts` and every file of `src/` and `plugins/` under `root`. */
export function layeredFiles(root: string): string[] {
  return [
    join(root, "mod.ts"),
    ...sourceFiles(join(root, "src")),
    ...sourceFiles(join(root, "plugins")),
  ];
}

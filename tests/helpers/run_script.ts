/**
 * Runs a TypeScript program in a fresh Deno process (the repo's deno.json), for what only a
 * whole process shows: its stderr, its exit code, what happens after shutdown or at exit.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** mod.ts as an import specifier for the scripts. */
export const MOD: string = new URL("../../mod.ts", import.meta.url).href;
const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** Writes `source` to `cwd/script.ts`, runs it with -A, and returns its exit code and output. */
export async function runScript(
  source: string,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = `${cwd}/script.ts`;
  await Deno.writeTextFile(path, source);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, path],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

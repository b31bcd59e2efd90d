/**
 * `promtool check metrics` on a text exposition, for tests of `/metrics`.
 *
 * @module
 */

import { promtool } from "./peers.ts";

/** Runs `promtool check metrics` on `text`; its exit code and everything it said. */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(promtool().command, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

/**
 * Runs a Python script as a peer program and returns its stdout (for interop tests).
 *
 * @module
 */

/** Runs `script` with `command` (a python3), feeding `stdin`; throws with stderr on failure. */
export async function runPython(
  command: string,
  script: string,
  stdin = "",
  env: Record<string, string> = {},
): Promise<string> {
  const child = new Deno.Command(command, {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`python exited with ${code}: ${err}`);
  return new TextDecoder().decode(stdout);
}

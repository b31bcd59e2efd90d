/**
 * Helpers for network tests: a free loopback port, a running pipeline built from an object
 * config, and waiting for records to arrive.
 *
 * @module
 */

import { loadConfig } from "../../src/config/load.ts";
import { Pipeline } from "../../src/pipeline/pipeline.ts";
import type { PluginDefinition } from "../../src/plugin/types.ts";

/** A TCP port free on 127.0.0.1 right now, picked by the OS (its UDP twin is almost surely free too). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Validates `raw` (an object config) with extra plugins, builds and starts the pipeline. */
export async function startPipeline(
  raw: Record<string, unknown>,
  plugins: readonly PluginDefinition[] = [],
): Promise<Pipeline> {
  const { config, formatters } = await loadConfig(raw, { plugins });
  const pipeline = await Pipeline.create(config, { formatters });
  try {
    await pipeline.start();
  } catch (error) {
    await pipeline.shutdown(1000);
    throw error;
  }
  return pipeline;
}

/** Waits until `done()` is true, polling, or throws after `timeoutMs` with `what` in the message. */
export async function waitFor(
  done: () => boolean | Promise<boolean>,
  what: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The sum of a pipeline counter over series whose labels include `match`. */
export function counter(
  pipeline: Pipeline,
  name: string,
  match: Record<string, string> = {},
): number {
  return pipeline.metrics.sum(name, match);
}

/** Runs a Python script with `python3`, returning its exit status and output. */
export async function runPython(
  script: string,
  args: readonly string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("python3", {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * Runs a Python script that paces itself: each time it prints a line with a number `k` it
 * waits for a line on stdin. `onStep(k)` runs in between (typically: wait until `k` records
 * arrived). This is flow control for UDP, which has none: the test checks what arrives, not
 * how deep the kernel's socket buffer is while other processes hog the CPU.
 */
export async function runPythonStepped(
  script: string,
  args: readonly string[],
  onStep: (k: number) => Promise<void>,
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command("python3", {
    args: ["-c", script, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  let pending = "";
  try {
    for await (const chunk of lines) {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line === "") continue;
        await onStep(Number(line));
        await writer.write(new TextEncoder().encode("go\n"));
      }
    }
  } finally {
    await writer.close().catch(() => {});
  }
  const status = await child.status;
  return { code: status.code, stderr: await stderr };
}

/**
 * Runs the Sluice CLI as a subprocess for end-to-end tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The CLI's entry point. */
export const CLI_MAIN: string = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
/** The repository's deno.json (import map and lock). */
export const DENO_JSON: string = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** What a finished CLI process left. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr. */
  stderr: string;
}

/** Runs `sluice <args>` to completion with `-A` (or the given permission flags). */
export async function runCli(
  args: readonly string[],
  options: { flags?: readonly string[]; cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--config=${DENO_JSON}`,
      ...options.flags ?? ["-A"],
      CLI_MAIN,
      ...args,
    ],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** A running `sluice run`. */
export interface RunningSluice {
  /** The server's base URL, such as `http://127.0.0.1:41234`. */
  url: string;
  /** stderr so far. */
  stderr(): string;
  /** The process id. */
  pid: number;
  /** Sends a signal without waiting (SIGHUP …). */
  signal(signal: Deno.Signal): void;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<CliResult>;
}

/** Options of {@linkcode startSluice}. */
export interface StartOptions {
  /** Deno's permission flags (`-A` by default). */
  flags?: readonly string[];
  /** The working directory. */
  cwd?: string;
  /** Arguments after `run --config FILE`. */
  extraArgs?: readonly string[];
  /** Runs the process under `ulimit -n` of this many descriptors (to reach EMFILE quickly). */
  maxOpenFiles?: number;
  /** More environment variables (for `${VAR}` references in the config). */
  env?: Record<string, string>;
}

/**
 * Starts `sluice run --config FILE` and resolves once its server listens (the port is read
 * from its "Server listening on" notice, so configs may use port 0).
 */
export async function startSluice(
  config: string,
  options: StartOptions = {},
): Promise<RunningSluice> {
  const limit = options.maxOpenFiles;
  const command = limit === undefined ? Deno.execPath() : "sh";
  const prefix = limit === undefined
    ? []
    : ["-c", `ulimit -n ${limit} && exec "$0" "$@"`, Deno.execPath()];
  const child = new Deno.Command(command, {
    args: [
      ...prefix,
      "run",
      "--quiet",
      `--config=${DENO_JSON}`,
      ...options.flags ?? ["-A"],
      CLI_MAIN,
      "run",
      "--config",
      config,
      ...options.extraArgs ?? [],
    ],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stderr = "";
  let stdout = "";
  let onText: (() => void) | undefined;
  const readAll = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    for await (const chunk of stream) {
      add(decoder.decode(chunk, { stream: true }));
      onText?.();
    }
  };
  const reading = Promise.all([
    readAll(child.stderr, (t) => stderr += t),
    readAll(child.stdout, (t) => stdout += t),
  ]);
  const status = child.status;
  let exited = false;
  status.then(() => {
    exited = true;
    onText?.();
  });
  const url = await new Promise<string>((resolve, reject) => {
    onText = () => {
      const match = /Server listening on (http:\/\/[^\s"]+)/.exec(stderr);
      if (match) resolve(match[1]!);
      else if (exited) reject(new Error(`sluice run exited before listening:\n${stderr}`));
    };
    onText();
  });
  onText = undefined;
  return {
    url,
    pid: child.pid,
    stderr: () => stderr,
    signal: (signal) => child.kill(signal),
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) child.kill(signal);
      const { code } = await status;
      await reading;
      return { code, stdout, stderr };
    },
  };
}

/**
 * Writes `yaml` (or what `yaml(dir)` returns, for paths inside the directory) to
 * `sluice.yaml` in a new temporary directory, calls `body` with the file's path and the
 * directory, and removes the directory afterwards.
 */
export async function withConfig<T>(
  yaml: string | ((dir: string) => string),
  body: (config: string, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-test-" });
  try {
    const config = join(dir, "sluice.yaml");
    await Deno.writeTextFile(config, typeof yaml === "string" ? yaml : yaml(dir));
    return await body(config, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `body` against a `sluice run` of `yaml` in a temporary directory ({@linkcode withConfig}):
 * calls `prepare` with the directory, starts the process, calls `body`, stops it (SIGTERM) and, when `body` succeeded, checks its
 * exit code. `body` may call `sluice.stop()`
 * itself to look at what the process left (the second stop returns the same result); the
 * directory lives until `body` returns. Resolves to the stopped process' result.
 */
export async function withSluice(
  yaml: string | ((dir: string) => string),
  body: (sluice: RunningSluice, dir: string) => Promise<void>,
  options: StartOptions & {
    /** The exit code expected (0 unless given); `null` checks none. */
    code?: number | null;
    /** Called with the directory before the process starts (files it should find there). */
    prepare?: (dir: string) => Promise<void>;
  } = {},
): Promise<CliResult> {
  const { code = 0, prepare, ...start } = options;
  return await withConfig(yaml, async (config, dir) => {
    await prepare?.(dir);
    const sluice = await startSluice(config, start);
    let result: CliResult;
    try {
      await body(sluice, dir);
    } finally {
      result = await sluice.stop();
    }
    if (code !== null) assert.equal(result.code, code, result.stderr);
    return result;
  });
}

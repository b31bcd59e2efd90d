/**
 * The `sluice` command line: `run`, `check`, `schema`, `permissions` and the rest.
 *
 * ```sh
 * deno run -A jsr:@sluice/sluice/cli check --config sluice.yaml
 * ```
 *
 * Each command is a module in `src/cli/commands/` exporting a {@linkcode Command} as its
 * default; adding one is its file and one line in {@linkcode commands}. Commands load on
 * demand, so `run` does not pay for the crypto the `decrypt` command needs.
 *
 * @module
 */

// Module plugins import the public API; having it loaded means they need no read permission for it.
import "../../mod.ts";
// Puts the npm packages the library imports on demand into the CLI's module graph, so that
// installing or caching the CLI caches them (the module only names them).
import "./npm_packages.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { ConfigError } from "../config/config_error.ts";
import { closest } from "../schema/closest.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./usage_error.ts";
import { describeError } from "../core/describe_error.ts";
import { UncaughtErrors } from "./uncaught_errors.ts";
import { internalLogFormat, ownLine } from "../pipeline/internal_log.ts";

export type { Command } from "./command.ts";

/** Sluice's version (from deno.json). */
export const VERSION: string = denoJson.version;

/** Every command by name, in the order `--help` lists them, loaded on demand. */
export const commands: Readonly<Record<string, () => Promise<{ default: Command }>>> = {
  run: () => import("./commands/run.ts"),
  check: () => import("./commands/check.ts"),
  schema: () => import("./commands/schema.ts"),
  permissions: () => import("./commands/permissions.ts"),
  keygen: () => import("./commands/keygen.ts"),
  decrypt: () => import("./commands/decrypt.ts"),
  verify: () => import("./commands/verify.ts"),
  query: () => import("./commands/query.ts"),
  buffer: () => import("./commands/buffer.ts"),
  tap: () => import("./commands/tap.ts"),
  top: () => import("./commands/top.ts"),
};

async function help(): Promise<string> {
  const loaded = await Promise.all(
    Object.values(commands).map(async (load) => (await load()).default),
  );
  const width = Math.max(...loaded.map((c) => c.name.length));
  return [
    `sluice ${VERSION}: a logging toolkit and log agent`,
    "",
    "Usage: sluice <command> [options]",
    "",
    "Commands:",
    ...loaded.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  --help, -h     Show this help (or a command's: sluice <command> --help)",
    "  --version, -V  Show the version",
  ].join("\n");
}

function usageOf(command: Command): string {
  const usage = `Usage: sluice ${command.usage ?? command.name}`;
  return command.help ? `${usage}\n\n${command.help.trimEnd()}` : usage;
}

/**
 * Reports an error the way the CLI promises: one clear message per problem, never a stack
 * trace. Returns the exit code: 2 for a bad config or bad arguments, 1 otherwise.
 */
function report(error: unknown, command: Command): number {
  // `--log-format json` (sluice run): every line is one JSON object, as the agent's own are.
  const json = internalLogFormat() === "json";
  const say = (line: string) => console.error(json ? ownLine("ERROR", line) : line);
  if (error instanceof ConfigError) {
    for (const line of error.message.split("\n")) say(line);
    const n = error.problems.length;
    say(`${n} problem${n === 1 ? "" : "s"} found`);
    return 2;
  }
  if (error instanceof UsageError) {
    say(`sluice ${command.name}: ${error.message}`);
    say(usageOf(command));
    return 2;
  }
  // With its causes: a plugin's `Cannot open sink "db"` says why.
  say(`sluice ${command.name}: ${describeError(error)}`);
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    say("hint: `sluice permissions --config FILE` prints the deno flags a config needs");
  }
  return 1;
}

/**
 * Runs the CLI with `args` (without the program name) and resolves to the exit code.
 *
 * @example Print the version
 * ```ts
 * import { main } from "./main.ts";
 * import assert from "node:assert/strict";
 * assert.ok((await main(["--version"])) === 0);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(await help());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(`sluice ${VERSION}`);
    return 0;
  }
  if (name === undefined) {
    console.error(await help());
    return 2;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    const hint = closest(name, Object.keys(commands));
    console.error(
      `sluice: unknown command "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}; ` +
        "see sluice --help",
    );
    return 2;
  }
  const command = (await load()).default;
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`${command.summary}\n\n${usageOf(command)}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    return report(error, command);
  }
}

if (import.meta.main) {
  // An error nothing caught (a plugin's callback that threw, a rejection nobody handled) is
  // counted, said once with its stack and turns exit code 0 into 5, never a crash: the NATS
  // client's socket, refused by the server (Authorization Violation), raised ECONNRESET
  // after its listeners were removed, and sluice run exited
  // (tests/plugins/sinks/nats_credentials_test.ts, 1 run in ~10; now handled by its guard).
  const uncaught = UncaughtErrors.process;
  uncaught.install();
  Deno.exit(uncaught.exitCode(await main(Deno.args)));
}

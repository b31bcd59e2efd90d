/**
 * The shape of a CLI command: each lives in `src/cli/commands/<name>.ts` and exports one
 * as its default; `src/cli/main.ts` lists them.
 *
 * @module
 */

/**
 * One `sluice <name>` command.
 *
 * @example A command module
 * ```ts
 * import type { Command } from "./command.ts";
 * import assert from "node:assert/strict";
 * const hello: Command = {
 *   name: "hello",
 *   summary: "Print a greeting",
 *   usage: "hello [NAME]",
 *   run(args) {
 *     console.log(`hello ${args[0] ?? "world"}`);
 *     return Promise.resolve(0);
 *   },
 * };
 * assert.ok(hello.name === "hello");
 * ```
 */
export interface Command {
  /** The word after `sluice`. */
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** Its arguments, shown by `--help`, such as `check --config FILE`. */
  usage?: string;
  /** What it does and its flags in detail, shown after the usage by `--help` and on a usage error. */
  help?: string;
  /**
   * Runs with the arguments after the command name and resolves to the exit code.
   * Throwing is fine: `ConfigError` exits 2 with every problem, a bad flag exits 2 with the
   * usage, anything else exits 1 with its message; never a stack trace.
   */
  run(args: string[]): Promise<number>;
}

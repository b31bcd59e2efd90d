/**
 * The arguments `decrypt` and `verify` share: where the key comes from (an environment
 * variable by default, or `--key-file`) and the files to read.
 *
 * @module
 */

import type { KeyContext, KeySource } from "../crypto/keys.ts";
import { messageOf } from "../core/message_of.ts";
import { parseFlags } from "./parse_flags.ts";
import { UsageError } from "./usage_error.ts";

/** How one command names its key flags, and how it loads the key. */
export interface KeyFileArgsSpec<T> {
  /** The command's name, for messages (`sluice decrypt: …`). */
  command: string;
  /** The flag naming the environment variable: `keys-env` or `key-env`. */
  envFlag: string;
  /** The variable read when neither flag is given. */
  defaultEnv: string;
  /** What messages call the key: `keys` or `key`. */
  noun: string;
  /** Loads the key (`loadKeys`, `loadSecret`). */
  load(source: KeySource, context: KeyContext): T;
}

/** Where a command says what went wrong and reads the environment. */
export interface KeyFileArgsIo {
  /** Told why the key could not be loaded. */
  stderr: (text: string) => void;
  /** Reads an environment variable; `Deno.env.get` by default. */
  getEnv?: ((name: string) => string | undefined) | undefined;
}

/**
 * Parses `[--ENV_FLAG VAR | --key-file PATH] FILE...` and loads the key. A usage mistake
 * (unknown flag, no file) throws a `UsageError`; a key that cannot be loaded is said on
 * `stderr` and gives `undefined` (the command exits 2).
 *
 * @example The files and the secret from the default variable
 * ```ts
 * import { readKeyFileArgs } from "./key_file_args.ts";
 * import { loadSecret } from "../crypto/keys.ts";
 * import assert from "node:assert/strict";
 * const spec = { command: "verify", envFlag: "key-env", defaultEnv: "K", noun: "key", load: loadSecret };
 * const parsed = readKeyFileArgs(["a.log", "b.log"], spec, {
 *   stderr: () => {},
 *   getEnv: (name) => name === "K" ? "0123456789abcdef" : undefined,
 * });
 * assert.deepEqual(parsed?.files, ["a.log", "b.log"]);
 * assert.equal(parsed?.key.length, 16);
 * ```
 */
export function readKeyFileArgs<T>(
  args: string[],
  spec: KeyFileArgsSpec<T>,
  io: KeyFileArgsIo,
): { files: string[]; key: T } | undefined {
  const parsed = parseFlags(args, {
    [spec.envFlag]: { type: "string" },
    "key-file": { type: "string" },
  }, true);
  const envName = parsed.values[spec.envFlag] as string | undefined;
  const keyFile = parsed.values["key-file"] as string | undefined;
  const files = parsed.positionals;
  if (files.length === 0) throw new UsageError("no file given");
  try {
    const key = spec.load({
      keysEnv: keyFile === undefined ? envName ?? spec.defaultEnv : envName,
      keyFile,
    }, {
      baseDir: Deno.cwd(),
      names: {
        keys: spec.noun,
        keysEnv: `--${spec.envFlag}`,
        keyFile: "--key-file",
        allowInline: "",
      },
      ...(io.getEnv ? { getEnv: io.getEnv } : {}),
    });
    return { files, key };
  } catch (error) {
    io.stderr(`sluice ${spec.command}: ${messageOf(error)}\n`);
    return undefined;
  }
}

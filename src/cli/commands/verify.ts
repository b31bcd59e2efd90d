/**
 * `sluice verify`: checks the HMAC chain of files written by a sink with `chain: true`.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { readKeyFileArgs } from "../key_file_args.ts";
import { CHAIN_KEY_ENV, verifyChain } from "../../crypto/chain.ts";
import { readLines } from "../../crypto/decrypt_stream.ts";
import { loadSecret } from "../../crypto/keys.ts";
import { writeAllSync } from "../../io/write_all_sync.ts";
import { messageOf } from "../../core/message_of.ts";

/** Where the command writes and how it reads the environment (the process's by default). */
export interface VerifyIo {
  /** Receives one result line per intact file. */
  stdout?: (text: string) => void;
  /** Receives the first broken line of each broken file. */
  stderr?: (text: string) => void;
  /** Reads an environment variable. */
  getEnv?: (name: string) => string | undefined;
}

const HELP =
  `Verifies files written by a sink with chain: true (plain or gzip-compressed). Each file's
chain starts at its first line. For an intact file it prints "FILE: ok, N records"; for a
broken one it prints FILE:LINE: reason for the first record that was edited, deleted,
inserted or moved, and the exit code is 1. Deleting the last lines of a file cannot be
detected by a chain.

  --key-env VAR     environment variable holding the chain secret (default ${CHAIN_KEY_ENV})
  --key-file PATH   file holding the secret instead
`;

const encoder = new TextEncoder();

/**
 * The `verify` command.
 *
 * @example A missing file is a usage error (`sluice` prints the usage and exits 2)
 * ```ts
 * import verify from "./verify.ts";
 * import { UsageError } from "../usage_error.ts";
 * import assert from "node:assert/strict";
 * const error = await verify.run([]).catch((e) => e);
 * assert.ok(error instanceof UsageError);
 * ```
 */
const verify = {
  name: "verify",
  usage: "verify [--key-env VAR | --key-file PATH] FILE...",
  summary: "Verify the HMAC chain of files written with chain: true",
  help: HELP,
  async run(args: string[], io: VerifyIo = {}): Promise<number> {
    const stdout = io.stdout ?? ((text: string) => writeAllSync(Deno.stdout, encoder.encode(text)));
    const stderr = io.stderr ?? ((text: string) => writeAllSync(Deno.stderr, encoder.encode(text)));
    const parsed = readKeyFileArgs(args, {
      command: "verify",
      envFlag: "key-env",
      defaultEnv: CHAIN_KEY_ENV,
      noun: "key",
      load: loadSecret,
    }, { stderr, getEnv: io.getEnv });
    if (!parsed) return 2;
    const { files, key: secret } = parsed;
    let failed = false;
    for (const file of files) {
      try {
        const report = await verifyChain(readLines(file, { keepCarriageReturns: true }), secret);
        if (report.broken) {
          failed = true;
          stderr(`${file}:${report.broken.line}: ${report.broken.reason}\n`);
        } else stdout(`${file}: ok, ${report.records} records\n`);
      } catch (error) {
        failed = true;
        stderr(`${file}:0: cannot read file: ${messageOf(error)}\n`);
      }
    }
    return failed ? 1 : 0;
  },
} satisfies Command;

export default verify;

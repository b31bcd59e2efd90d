/**
 * `sluice decrypt`: streams the plain records of encrypted log files to stdout.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { readKeyFileArgs } from "../key_file_args.ts";
import { decryptFiles, Keyring } from "../../crypto/decrypt_stream.ts";
import { loadKeys } from "../../crypto/keys.ts";
import { writeAllSync } from "../../io/write_all_sync.ts";

/** Where the command writes and how it reads the environment (the process's by default). */
export interface DecryptIo {
  /** Receives plaintext records, one per line. */
  stdout?: (bytes: Uint8Array) => Promise<void> | void;
  /** Receives diagnostics. */
  stderr?: (text: string) => void;
  /** Reads an environment variable. */
  getEnv?: (name: string) => string | undefined;
}

const DEFAULT_ENV = "SLUICE_LOG_KEYS";

const HELP = `Decrypts files written by the encrypted formatter (Fernet tokens or AES-256-GCM lines,
plain or gzip-compressed rotations; "-" reads stdin) and writes the plain records to
stdout, one per line. A line that cannot be decrypted (altered, truncated, or written with
a key not given) is reported on stderr as FILE:LINE: reason, and decryption goes on; the
exit code is 1 if any line failed.

  --keys-env VAR    environment variable holding the comma-separated keys (default ${DEFAULT_ENV})
  --key-file PATH   file holding the keys instead
`;

const encoder = new TextEncoder();

/**
 * The `decrypt` command.
 *
 * @example A missing file is a usage error (`sluice` prints the usage and exits 2)
 * ```ts
 * import decrypt from "./decrypt.ts";
 * import { UsageError } from "../usage_error.ts";
 * import assert from "node:assert/strict";
 * const error = await decrypt.run([]).catch((e) => e);
 * assert.ok(error instanceof UsageError);
 * ```
 */
const decrypt = {
  name: "decrypt",
  usage: "decrypt [--keys-env VAR | --key-file PATH] FILE...",
  summary: "Decrypt encrypted log files (also .gz rotations) to stdout",
  help: HELP,
  async run(args: string[], io: DecryptIo = {}): Promise<number> {
    const stdout = io.stdout ?? ((bytes: Uint8Array) => writeAllSync(Deno.stdout, bytes));
    const stderr = io.stderr ?? ((text: string) => writeAllSync(Deno.stderr, encoder.encode(text)));
    const parsed = readKeyFileArgs(args, {
      command: "decrypt",
      envFlag: "keys-env",
      defaultEnv: DEFAULT_ENV,
      noun: "keys",
      load: (source, context) => new Keyring(loadKeys(source, context)),
    }, { stderr, getEnv: io.getEnv });
    if (!parsed) return 2;
    const { files, key: keyring } = parsed;
    let broken = false;
    const summary = await decryptFiles(files, keyring, async (bytes) => {
      if (broken) return;
      try {
        await stdout(bytes);
      } catch (error) {
        if (error instanceof Deno.errors.BrokenPipe) broken = true;
        else throw error;
      }
    }, (failure) => stderr(`${failure.file}:${failure.line}: ${failure.reason}\n`));
    if (summary.failed > 0 || summary.unreadable > 0) {
      const files = summary.unreadable > 0
        ? `, ${summary.unreadable} file(s) could not be read (or not to their end)`
        : "";
      stderr(
        `sluice decrypt: ${summary.failed} line(s) could not be decrypted${files}, ` +
          `${summary.decrypted} decrypted\n`,
      );
      return 1;
    }
    return 0;
  },
} satisfies Command;

export default decrypt;

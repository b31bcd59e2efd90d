/**
 * `sluice keygen`: prints new random keys for the `encrypted` formatter, chained sinks and
 * hashed redaction.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { parseFlags } from "../parse_flags.ts";
import { generateKey } from "../../crypto/keys.ts";
import { writeAllSync } from "../../io/write_all_sync.ts";

/** Where a command writes; the process's stdout and stderr by default. */
export interface KeygenIo {
  /** Receives standard output. */
  stdout?: (text: string) => void;
  /** Receives standard error. */
  stderr?: (text: string) => void;
}

const ALGORITHMS = ["fernet", "aes-256-gcm", "hmac-sha256"] as const;

const HELP = `Prints new random keys, one per line: 32 bytes as 44 characters of URL-safe base64
(Fernet's own key format, which Python's cryptography.fernet.Fernet accepts).

  --algorithm   fernet (default) or aes-256-gcm for the encrypted formatter;
                hmac-sha256 for a chained sink's secret or the redact processor's hash key
  --count N     how many keys (default 1)

Keep keys out of config files: put them in an environment variable (keys_env:) or a
file readable only by Sluice (key_file:). To rotate, put the new key first:
  SLUICE_LOG_KEYS="$(sluice keygen),$SLUICE_LOG_KEYS"
`;

const encoder = new TextEncoder();

/**
 * The `keygen` command.
 *
 * @example Generate two keys
 * ```ts
 * import keygen from "./keygen.ts";
 * import assert from "node:assert/strict";
 * let out = "";
 * const code = await keygen.run(["--count", "2"], { stdout: (text) => (out += text) });
 * assert.ok(code === 0 && out.trim().split("\n").length === 2);
 * ```
 */
const keygen = {
  name: "keygen",
  usage: "keygen [--algorithm fernet|aes-256-gcm|hmac-sha256] [--count N]",
  summary: "Print new random keys (fernet, aes-256-gcm, hmac-sha256)",
  help: HELP,
  // deno-lint-ignore require-await -- async so that a bad flag rejects rather than throws
  async run(args: string[], io: KeygenIo = {}): Promise<number> {
    const stdout = io.stdout ?? ((text: string) => writeAllSync(Deno.stdout, encoder.encode(text)));
    const stderr = io.stderr ?? ((text: string) => writeAllSync(Deno.stderr, encoder.encode(text)));
    const values = parseFlags(args, {
      algorithm: { type: "string", short: "a" },
      count: { type: "string", short: "n" },
    }).values as { algorithm?: string; count?: string };
    const algorithm = values.algorithm ?? "fernet";
    if (!(ALGORITHMS as readonly string[]).includes(algorithm)) {
      stderr(
        `sluice keygen: unknown algorithm "${algorithm}"; expected one of ${
          ALGORITHMS.join(", ")
        }\n`,
      );
      return 2;
    }
    const count = values.count === undefined ? 1 : Number(values.count);
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      stderr(`sluice keygen: --count must be an integer from 1 to 1000, got "${values.count}"\n`);
      return 2;
    }
    let out = "";
    for (let i = 0; i < count; i++) out += generateKey() + "\n";
    stdout(out);
    return 0;
  },
} satisfies Command;

export default keygen;

/**
 * Slide 10, "Implementing Secure Logging with Encryption": a `SecureFormatter` that encrypts
 * each record with Fernet, and `decrypt_log` to read it back.
 *
 * In Sluice, the `encrypted` formatter wraps any other formatter (here `json`) and writes one
 * Fernet token per line, exactly as Python's `cryptography` writes them, so
 * `Fernet(key).decrypt(line)` reads Sluice's files and `sluice decrypt` reads Python's. The
 * key never sits in the config: `keys_env` names the environment variable that holds it
 * (comma-separated keys rotate: the first encrypts, all decrypt), and it never appears in
 * errors, metrics or logs. `sluice keygen` makes a key.
 *
 * Encrypting the whole file protects it at rest; the console (or any other sink) should not
 * see card numbers at all: the `redact` processor masks them by field name and by pattern.
 *
 * Run: `deno run -A examples/10_encryption/main.ts [directory]`
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { configure, getLogger, shutdown } from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-10-" });
const path = `${dir}/secure.log`;

/** Runs the `sluice` CLI (`deno run -A src/cli/main.ts ...`) and returns its stdout. */
async function sluice(args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--config=${fileURLToPath(new URL("../../deno.json", import.meta.url))}`,
      "-A",
      fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url)),
      ...args,
    ],
    env,
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

// key = Fernet.generate_key()
const key = await sluice(["keygen"]);
Deno.env.set("SLUICE_LOG_KEYS", key);

await configure({
  loggers: { secure_logger: "info" },
  sources: { app: { type: "logger" } },
  processors: {
    // For the console: card numbers and SSNs masked wherever they appear.
    scrub: { type: "redact", inputs: ["app"], patterns: ["credit_card", "us_ssn"] },
  },
  sinks: {
    secure: {
      type: "file",
      inputs: ["app"], // the whole record, unredacted, encrypted
      path,
      format: {
        type: "encrypted",
        algorithm: "fernet",
        keys_env: "SLUICE_LOG_KEYS",
        inner: "json",
      },
    },
    console: {
      type: "console",
      inputs: ["scrub"],
      stream: "stdout",
      format: {
        type: "text",
        pattern: "%(levelname)s - %(message)s %(user_id)s %(credit_card)s %(ssn)s",
      },
    },
  },
});

getLogger("secure_logger").info("User payment processed", {
  user_id: "12345",
  credit_card: "4111-1111-1111-1111",
  ssn: "123-45-6789",
});
await shutdown();

const token = (await Deno.readTextFile(path)).trim();
console.log(`secure.log: ${token.slice(0, 24)}… (a Fernet token, ${token.length} characters)`);

// SecureLogger.decrypt_log(key, line): `sluice decrypt` reads the file with the key from the env.
const decrypted = await sluice(["decrypt", path], { SLUICE_LOG_KEYS: key });
const { time: _, ...record } = JSON.parse(decrypted);
console.log(`Decrypted log: ${JSON.stringify(record)}`);

// The slide's own decrypt_log, in Python, reads the same line (when python3 has cryptography).
try {
  const python = await new Deno.Command("python3", {
    args: [
      "-c",
      "import json, sys; from cryptography.fernet import Fernet; " +
      "print(json.loads(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode()))['ssn'])",
      key,
      token,
    ],
    stderr: "null",
  }).output();
  console.log(
    python.success
      ? `Python's Fernet(key).decrypt(line) reads it too: ssn ${
        new TextDecoder().decode(python.stdout).trim()
      }`
      : "python3 has no cryptography module: the Python part is skipped",
  );
} catch (error) {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
  console.log("python3 not found: the Python part is skipped");
}
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output:
// INFO - User payment processed 12345 [REDACTED] [REDACTED]
// secure.log: gAAAAABrEUT--7jO0-CiVwaS… (a Fernet token, 332 characters)
// Decrypted log: {"level":"INFO","logger":"secure_logger","message":"User payment processed","user_id":"12345","credit_card":"4111-1111-1111-1111","ssn":"123-45-6789"}
// Python's Fernet(key).decrypt(line) reads it too: ssn 123-45-6789

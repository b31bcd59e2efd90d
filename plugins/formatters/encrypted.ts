/**
 * The `encrypted` formatter: another formatter's line, encrypted into one token per line
 * (Fernet, compatible with Python's `cryptography`, or AES-256-GCM with key ids).
 *
 * @module
 */

import { AesGcm } from "../../src/crypto/aes_gcm.ts";
import { Fernet } from "../../src/crypto/fernet.ts";
import { envNameSchema, loadKeys } from "../../src/crypto/keys.ts";
import type { LogRecord } from "../../src/core/record.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import { s } from "../../src/schema/schema.ts";
import { messageOf } from "../../src/core/message_of.ts";

/**
 * Encrypts each line of an inner formatter (json by default). With `algorithm: fernet`
 * every line is a Fernet token that Python's `Fernet(key).decrypt(line)` (or
 * `MultiFernet`) reads; with `aes-256-gcm` a line is `gcm1.<key id>.<data>`.
 * `sluice decrypt` reads both.
 *
 * Keys are 32 bytes in Fernet's format (44 characters of URL-safe base64, made by
 * `sluice keygen`), comma-separated: the first encrypts, all decrypt, so a new key goes
 * first and old ones stay until their files are gone. They come from an environment
 * variable (`keys: ${VAR}`, or `keys_env: VAR`) or a file (`key_file`). A key written into
 * the YAML itself (`keys:` holding anything but `${VAR}` references) is refused unless
 * `allow_inline_key: true`. Keys never appear in errors, metrics or logs.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   secure:
 *     type: file
 *     path: logs/secure.log
 *     format:
 *       type: encrypted
 *       algorithm: fernet            # or aes-256-gcm
 *       keys: \${SLUICE_LOG_KEYS}    # comma-separated; the first encrypts, all decrypt
 *       inner: json
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml", {
 *   env: { SLUICE_LOG_KEYS: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" },
 * });
 * assert.deepEqual((config.sinks.secure?.options.format as { type: string }).type, "encrypted");
 * ```
 */
export default definePlugin({
  kind: "formatter",
  type: "encrypted",
  description:
    "Another formatter's line encrypted as one token per line: Fernet (Python-compatible) or AES-256-GCM.",
  options: s.object({
    algorithm: s.enum(["fernet", "aes-256-gcm"] as const).default("fernet").describe(
      "fernet (Python cryptography's Fernet tokens) or aes-256-gcm (key id and version bound as associated data).",
    ),
    keys_env: envNameSchema().optional().describe(
      "The environment variable holding the comma-separated keys (first encrypts, all decrypt).",
    ),
    key_file: s.string({ minLength: 1 }).optional().describe(
      "A file holding the keys, one per line or comma-separated; relative to the config file.",
    ),
    keys: s.secret().optional().describe(
      "The keys, as ${VAR} references (comma-separated); a key written here is refused unless allow_inline_key is true.",
    ),
    allow_inline_key: s.boolean().default(false).describe(
      "Accept keys written in the config (they leak through version control and backups).",
    ),
    inner: s.formatter().default({ type: "json", options: {} }).describe(
      "The formatter whose output is encrypted.",
    ),
  }, {
    refine(options, path, ctx) {
      if (options.keys && !options.keys.fromEnvironment && !options.allow_inline_key) {
        ctx.issues.push({
          path: [...path, "keys"],
          message: "A key is written into the config, where it leaks through version control, " +
            "backups and config dumps; refer to it as ${VAR}, or use keys_env or key_file",
          hint: "set allow_inline_key: true to accept the risk",
        });
      }
      // The variable keys_env names is set where the config loads: its keys are checked now,
      // with the position, instead of when the sink starts. Unset, it is left to run (a
      // machine that checks a config need not hold its keys); the message names the variable
      // and never holds its value.
      const value = options.keys_env !== undefined ? ctx.env?.(options.keys_env) : undefined;
      if (value !== undefined && value.trim() !== "") {
        try {
          for (
            const key of loadKeys({ keysEnv: options.keys_env }, {
              baseDir: ".",
              getEnv: () => value,
            })
          ) key.fill(0);
        } catch (error) {
          ctx.issues.push({ path: [...path, "keys_env"], message: messageOf(error) });
        }
      }
    },
  }),
  permissions: (options) => ({
    ...(options.keys_env !== undefined ? { env: [options.keys_env] } : {}),
    ...(options.key_file !== undefined ? { read: [options.key_file] } : {}),
  }),
  create(options, context) {
    let keys: Uint8Array[];
    try {
      keys = loadKeys({
        keys: options.keys?.value,
        keysEnv: options.keys_env,
        keyFile: options.key_file,
        allowInline: options.allow_inline_key || options.keys?.fromEnvironment === true,
      }, {
        baseDir: context.baseDir,
        warn: (message) => context.log.warnOnce(`key-file:${context.id}`, message),
      });
    } catch (error) {
      throw new PluginError(
        `Cannot create the encrypted formatter of "${context.id}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    const inner = context.createFormatter(options.inner);
    const cipher = options.algorithm === "fernet" ? new Fernet(keys) : new AesGcm(keys);
    for (const key of keys) key.fill(0);
    const encrypted = context.counter(
      "records_encrypted_total",
      "Records an encrypted formatter encrypted.",
      { algorithm: options.algorithm },
    );
    return (record: LogRecord): string => {
      const line = cipher.encrypt(inner(record));
      encrypted.inc();
      return line;
    };
  },
});

/**
 * TLS, key and credentials files a config names that are not there, found at check time: `run`
 * would fail on them only when the component starts, without a position.
 *
 * @module
 */

import { resolve } from "node:path";
import { isPlainObject, type Issue } from "../schema/schema.ts";
import type { ResolvedConfig } from "./types.ts";

/** The options of a `tls:` block that name files (listeners, tcp sink, nats). */
const TLS_FILE_KEYS = ["cert", "key", "ca", "ca_file", "cert_file", "key_file"] as const;

/**
 * Options, at any depth outside `tls:`, that name a file a component reads when it is created:
 * the `encrypted` formatter's and the `file` sink's chain `key_file`, `redact`'s
 * `hash_key_file`, the `nats` plugins' `auth` files.
 */
const READ_FILE_KEYS = new Set([
  "key_file",
  "hash_key_file",
  "creds_file",
  "token_file",
  "password_file",
  "nkey_file",
]);

/**
 * Reports every file named in a component's `tls:` block, or as a key or credentials file (in
 * its options or its `format:`), that does not exist, at its key path. Looks at the file
 * system (a `stat`) and changes nothing; a file that exists but cannot be read is left to
 * `run`, which says why.
 *
 * @example A listener's missing certificate
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./load.ts";
 *
 * await assert.rejects(
 *   loadConfig({
 *     sources: {
 *       secure: {
 *         type: "tcp",
 *         address: "127.0.0.1:0",
 *         tls: { cert: "no-such-cert.pem", key: "no-such-key.pem" },
 *       },
 *     },
 *     sinks: { out: { type: "memory" } },
 *   }, { requireFiles: true }),
 *   /Source "secure" names tls\.cert "no-such-cert\.pem", which does not exist/,
 * );
 * ```
 */
export function reportMissingFiles(config: ResolvedConfig, issues: Issue[]): void {
  const sections = [
    ["sources", "Source", config.sources],
    ["processors", "Processor", config.processors],
    ["sinks", "Sink", config.sinks],
  ] as const;
  for (const [section, noun, components] of sections) {
    for (const [id, component] of Object.entries(components)) {
      reportReadFiles(component.options, [], (key, file) => {
        if (exists(resolve(config.baseDir, file))) return;
        issues.push({
          path: [section, id, ...key],
          message: `${noun} "${id}" names ${key.join(".")} "${file}", which does not exist`,
          hint: `a relative path is read from ${config.baseDir}`,
        });
      });
      const tls = component.options.tls;
      if (typeof tls !== "object" || tls === null) continue;
      for (const key of TLS_FILE_KEYS) {
        const file = (tls as Record<string, unknown>)[key];
        if (typeof file !== "string" || exists(resolve(config.baseDir, file))) continue;
        issues.push({
          path: [section, id, "tls", key],
          message: `${noun} "${id}" names tls.${key} "${file}", which does not exist`,
          hint: `a relative path is read from ${config.baseDir}`,
        });
      }
    }
  }
}

/**
 * Calls `found` with the key path and value of each {@linkcode READ_FILE_KEYS} option in
 * `options`. A parsed `format:` (`{ type, options }`) is walked as the YAML writes it, with its
 * options beside its `type`.
 */
function reportReadFiles(
  options: Record<string, unknown>,
  path: string[],
  found: (path: string[], file: string) => void,
): void {
  for (const [key, value] of Object.entries(options)) {
    if (path.length === 0 && key === "tls") continue;
    if (READ_FILE_KEYS.has(key) && typeof value === "string") {
      found([...path, key], value);
    } else if (isPlainObject(value)) {
      const spec = typeof value.type === "string" && isPlainObject(value.options);
      reportReadFiles(
        spec ? value.options as Record<string, unknown> : value,
        [...path, key],
        found,
      );
    }
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    // Only absence is known here; a permission problem is run's to report with its cause.
    return !(error instanceof Deno.errors.NotFound);
  }
}

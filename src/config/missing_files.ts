/**
 * TLS files a config names that are not there, found at check time: `run` would fail on them
 * only when the component starts, without a position.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Issue } from "../schema/schema.ts";
import type { ResolvedConfig } from "./types.ts";

/** The options of a `tls:` block that name files (listeners, tcp sink, nats). */
const TLS_FILE_KEYS = ["cert", "key", "ca", "ca_file", "cert_file", "key_file"] as const;

/**
 * Reports every file named in a source's or sink's `tls:` block that does not exist, at its key
 * path. Looks at the file system (a `stat`) and changes nothing; a file that exists but cannot
 * be read is left to `run`, which says why.
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
  const sections = [["sources", "Source", config.sources], [
    "sinks",
    "Sink",
    config.sinks,
  ]] as const;
  for (const [section, noun, components] of sections) {
    for (const [id, component] of Object.entries(components)) {
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

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    // Only absence is known here; a permission problem is run's to report with its cause.
    return !(error instanceof Deno.errors.NotFound);
  }
}

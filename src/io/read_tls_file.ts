/**
 * Reading a TLS file (certificate, key, CA) named in a config.
 *
 * @module
 */

import { resolve } from "node:path";
import { messageOf } from "../core/message_of.ts";
import { PluginError } from "../plugin/plugin_error.ts";

/**
 * Reads `path` (relative to `baseDir`) as text; a file that cannot be read fails the
 * creation of `component` (`source "in"`, `sink "out"`) with the full path and why.
 *
 * @example A missing file names the component and the path
 * ```ts
 * import { readTlsFile } from "./read_tls_file.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => readTlsFile("/nowhere", "cert.pem", 'sink "out"'),
 *   /Cannot create sink "out": cannot read TLS file "\/nowhere\/cert.pem"/,
 * );
 * ```
 */
export function readTlsFile(baseDir: string, path: string, component: string): string {
  const full = resolve(baseDir, path);
  try {
    return Deno.readTextFileSync(full);
  } catch (error) {
    throw new PluginError(
      `Cannot create ${component}: cannot read TLS file "${full}": ${messageOf(error)}`,
      { cause: error },
    );
  }
}

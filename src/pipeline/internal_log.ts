/**
 * Sluice's own diagnostics. They go straight to stderr (never through the pipeline, which
 * may be what is failing), once per key, and every occurrence is counted.
 *
 * @module
 */

import type { InternalLog } from "../plugin/types.ts";
import type { Metrics } from "./metrics.ts";
import { messageOf } from "../core/message_of.ts";

const encoder = new TextEncoder();

/**
 * Creates the internal log of one pipeline.
 *
 * @example Report a failure once
 * ```ts
 * import { createInternalLog } from "./internal_log.ts";
 * import { Metrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const log = createInternalLog(new Metrics(), (line) => lines.push(line));
 * log.warnOnce("sink:out", "Cannot write");
 * log.warnOnce("sink:out", "Cannot write");
 * assert.ok(lines.length === 1);
 * ```
 */
export function createInternalLog(
  metrics: Metrics,
  write: (line: string) => void = writeStderr,
): InternalLog & { reset(key: string): void; warn(key: string, message: string): void } {
  const reported = new Set<string>();
  return {
    warnOnce(key, message, error) {
      metrics.counter("internal_warnings_total", "Problems Sluice reported about itself.", { key })
        .inc();
      if (reported.has(key)) return;
      reported.add(key);
      const detail = error === undefined ? "" : `: ${messageOf(error)}`;
      write(`${new Date().toISOString()} sluice WARN ${message}${detail}`);
    },
    /** Reports a warning every time (a running total), counted under `key`. */
    warn(key, message) {
      metrics.counter("internal_warnings_total", "Problems Sluice reported about itself.", { key })
        .inc();
      write(`${new Date().toISOString()} sluice WARN ${message}`);
    },
    info(message) {
      write(`${new Date().toISOString()} sluice INFO ${message}`);
    },
    /** Lets a recovered component report its next failure again. */
    reset(key) {
      reported.delete(key);
    },
  };
}

function writeStderr(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing left to tell.
  }
}

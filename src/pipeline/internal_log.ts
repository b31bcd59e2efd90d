/**
 * Sluice's own diagnostics. They go straight to stderr (never through the pipeline, which
 * may be what is failing), once per key, and every occurrence is counted.
 *
 * @module
 */

import type { InternalLog } from "../plugin/types.ts";
import type { Metrics } from "./metrics.ts";
import { describeError } from "../core/describe_error.ts";

const encoder = new TextEncoder();
let json = false;

/**
 * Writes Sluice's own lines, process-wide, as JSON objects (`sluice run --log-format json`)
 * or as text (the default): `{"time":…,"level":"WARN","logger":"sluice","message":…}`.
 *
 * @example JSON lines
 * ```ts
 * import { internalLogFormat, ownLine, setInternalLogFormat } from "./internal_log.ts";
 * import assert from "node:assert/strict";
 * setInternalLogFormat("json");
 * assert.equal(JSON.parse(ownLine("INFO", "Stopped")).message, "Stopped");
 * setInternalLogFormat("text");
 * assert.equal(internalLogFormat(), "text");
 * ```
 */
export function setInternalLogFormat(format: "text" | "json"): void {
  json = format === "json";
}

/** The format {@linkcode setInternalLogFormat} chose. */
export function internalLogFormat(): "text" | "json" {
  return json ? "json" : "text";
}

/** One of Sluice's own lines, stamped now, in the chosen format. */
export function ownLine(level: "INFO" | "WARN" | "ERROR", message: string): string {
  const time = new Date().toISOString();
  return json
    ? JSON.stringify({ time, level, logger: "sluice", message })
    : `${time} sluice ${level} ${message}`;
}

/**
 * Creates the internal log of one pipeline. Warnings pass through `conceal`, which names the
 * variables whose values they would show (see `createConcealer()`); notices are Sluice's own
 * words and addresses, shown as they are.
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
  conceal: (text: string) => string = (text) => text,
): InternalLog & { reset(key: string): void; warn(key: string, message: string): void } {
  const reported = new Set<string>();
  return {
    warnOnce(key, message, error) {
      metrics.counter("internal_warnings_total", "Problems Sluice reported about itself.", { key })
        .inc();
      if (reported.has(key)) return;
      reported.add(key);
      const detail = error === undefined ? "" : `: ${describeError(error)}`;
      write(ownLine("WARN", conceal(`${message}${detail}`)));
    },
    /** Reports a warning every time (a running total), counted under `key`. */
    warn(key, message) {
      metrics.counter("internal_warnings_total", "Problems Sluice reported about itself.", { key })
        .inc();
      write(ownLine("WARN", conceal(message)));
    },
    info(message) {
      write(ownLine("INFO", message));
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

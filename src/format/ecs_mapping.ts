/**
 * Elastic Common Schema 8's mapping of a record, shared by the `json` formatter's
 * `naming: ecs`, the `http` sink's `elasticsearch` preset (its default document) and its
 * `loki` preset (the `level` label), so a record's level, error and call site read the same
 * in each.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";

/** The ECS version written in `ecs.version`. */
export const ECS_VERSION = "8.11.0";

/**
 * ECS's `log.level`: the level's name in lower case, as the ecs-logging libraries write it
 * (`trace`, `debug`, `info`, `warn`, `error`, `critical`); levels between take the name of
 * the level below.
 *
 * @example Map levels
 * ```ts
 * import { ecsLevel } from "./ecs_mapping.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([5, 10, 25, 30, 40, 50].map(ecsLevel), ["trace", "debug", "info", "warn", "error", "critical"]);
 * ```
 */
export function ecsLevel(level: number): string {
  return level >= 50
    ? "critical"
    : level >= 40
    ? "error"
    : level >= 30
    ? "warn"
    : level >= 20
    ? "info"
    : level >= 10
    ? "debug"
    : "trace";
}

/**
 * A record's call site and error in ECS names, as `[key, value]` pairs in this order:
 * `log.origin.file.name`, `log.origin.file.line`, `log.origin.function` (from `caller`),
 * `error.type`, `error.message`, `error.stack_trace`.
 *
 * @example An error and a call site
 * ```ts
 * import { ecsEntries } from "./ecs_mapping.ts";
 * import { createRecord } from "../core/record.ts";
 * import assert from "node:assert/strict";
 * const record = createRecord({ message: "m" });
 * record.error = { name: "TypeError", message: "bad", stack: "TypeError: bad" };
 * record.caller = { file: "/app/a.ts", line: 3, column: 1, function: "f", module: "a" };
 * assert.deepEqual(Object.fromEntries(ecsEntries(record)), {
 *   "log.origin.file.name": "/app/a.ts", "log.origin.file.line": 3, "log.origin.function": "f",
 *   "error.type": "TypeError", "error.message": "bad", "error.stack_trace": "TypeError: bad",
 * });
 * ```
 */
export function ecsEntries(record: LogRecord): [string, string | number][] {
  const out: [string, string | number][] = [];
  const caller = record.caller;
  if (caller !== undefined) {
    out.push(
      ["log.origin.file.name", caller.file],
      ["log.origin.file.line", caller.line],
      ["log.origin.function", caller.function],
    );
  }
  const error = record.error;
  if (error !== undefined) {
    out.push(["error.type", error.name], ["error.message", error.message]);
    if (error.stack !== undefined) out.push(["error.stack_trace", error.stack]);
  }
  return out;
}

/**
 * The call site of a log call, for loggers with `caller: true`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { CallSite } from "../core/record.ts";

const FRAME = /^\s*at (?:(.*?) \()?(.*):(\d+):(\d+)\)?$/;

/**
 * The frame `skip` frames below the caller of `above` (a function on the stack), read from
 * V8's stack text, which Deno has already mapped back to the TypeScript source. Only the
 * frames needed are collected (`Error.stackTraceLimit`); `undefined` when the stack holds no
 * readable frame. Deno ignores `Error.prepareStackTrace` for captured stacks, so the text is
 * parsed; the cost per call is in bench/RESULTS.md.
 *
 * @example The line that called a function
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureCallSite } from "./call_site.ts";
 * function where() {
 *   return captureCallSite(where, 0);
 * }
 * function caller() {
 *   return where();
 * }
 * const site = caller()!;
 * assert.equal(site.function, "caller");
 * assert.equal(site.module, "call_site");
 * ```
 */
// deno-lint-ignore ban-types
export function captureCallSite(above: Function, skip: number): CallSite | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = skip + 1;
  Error.captureStackTrace(holder, above);
  Error.stackTraceLimit = limit;
  const lines = holder.stack?.split("\n");
  const line = lines?.[skip + 1];
  if (line === undefined) return undefined;
  const m = FRAME.exec(line);
  if (!m) return undefined;
  let name = m[1] ?? "<module>";
  if (name.startsWith("async ")) name = name.slice(6);
  const alias = name.indexOf(" [as ");
  if (alias !== -1) name = name.slice(0, alias);
  const location = m[2]!;
  let file = location;
  if (location.startsWith("file://")) {
    try {
      file = fileURLToPath(location);
    } catch {
      // keep the URL
    }
  }
  const base = file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return {
    file,
    line: Number(m[3]),
    column: Number(m[4]),
    function: name,
    module: dot > 0 ? base.slice(0, dot) : base,
  };
}

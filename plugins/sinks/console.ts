/**
 * The `console` sink: stdout or stderr, coloured by level only on a terminal.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { encodeBatch } from "../../src/io/encode_batch.ts";
import { writeAllSync } from "../../src/io/write_all_sync.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import type { Formatter } from "../../src/plugin/types.ts";
import { s } from "../../src/schema/schema.ts";
import { formatErrorReporter } from "../../src/plugin/format_error_reporter.ts";

const COLORS: [number, string][] = [
  [50, "\x1b[1;31m"],
  [40, "\x1b[31m"],
  [30, "\x1b[33m"],
  [20, ""],
  [0, "\x1b[2m"],
];
const RESET = "\x1b[0m";

function colorOf(level: number): string {
  for (const [min, code] of COLORS) if (level >= min) return code;
  return "";
}

/**
 * Wraps a formatter so each line is coloured by its level.
 *
 * @example Colour an error line red
 * ```ts
 * import { colorize } from "./console.ts";
 * import { createRecord } from "../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const line = colorize((r) => r.message)(createRecord({ level: 40, message: "boom" }));
 * assert.ok(line === "\x1b[31mboom\x1b[0m");
 * ```
 */
export function colorize(format: Formatter): Formatter {
  return (record: LogRecord) => {
    const line = format(record);
    const code = colorOf(record.level);
    return code && typeof line === "string" ? code + line + RESET : line;
  };
}

/**
 * Writes lines to stdout or stderr. `color: auto` colours only when the stream is a
 * terminal and `NO_COLOR` is unset.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   console: { type: console, stream: stderr, level: debug, format: { type: text } }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "sink",
  writesSync: true,
  type: "console",
  description: "Writes lines to stdout or stderr, coloured by level on a terminal.",
  options: s.object({
    stream: s.enum(["stdout", "stderr"] as const).default("stdout").describe("Where lines go."),
    format: s.formatter().default({ type: "text", options: {} }).describe("The formatter."),
    color: s.enum(["auto", "always", "never"] as const).default("auto").describe(
      "Colour lines by level.",
    ),
  }),
  permissions: () => ({ env: ["NO_COLOR"] }),
  create(options, context) {
    const stream = options.stream === "stdout" ? Deno.stdout : Deno.stderr;
    const plain = context.createFormatter(options.format);
    const color = options.color === "always" ||
      (options.color === "auto" && stream.isTerminal() && !Deno.env.get("NO_COLOR"));
    const format = color ? colorize(plain) : plain;
    const bytesWritten = context.counter("bytes_written_total", "Bytes a sink wrote.");
    const onFormatError = formatErrorReporter(context);
    const writeSync = (records: readonly LogRecord[]) => {
      const bytes = encodeBatch(records, format, onFormatError, true);
      writeAllSync(stream, bytes);
      bytesWritten.inc(bytes.length);
    };
    return { writeSync, write: writeSync, [Symbol.asyncDispose]: () => Promise.resolve() };
  },
});

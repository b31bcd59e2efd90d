/**
 * The `file` sink: appends formatted lines to a file.
 *
 * @module
 */

import { JsonFieldsRecord } from "../../src/core/json_fields_record.ts";
import { dirname, resolve } from "node:path";
import type { LogRecord } from "../../src/core/record.ts";
import { chainOptionSchema, chainPermissions, openFileChain } from "../../src/crypto/chain.ts";
import { encodeBatch } from "../../src/io/encode_batch.ts";
import { WatchedFile } from "../../src/io/watched_file.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import { s } from "../../src/schema/schema.ts";
import { formatErrorReporter } from "../../src/plugin/format_error_reporter.ts";
import { messageOf } from "../../src/core/message_of.ts";

/**
 * Appends one line per record, one write per batch, creating missing directories.
 * Reopens the file when it is moved, deleted or truncated from outside (checked before every
 * batch, as Python's `WatchedFileHandler` checks every record; counted in
 * `sluice_file_reopens_total`) and on SIGHUP.
 * `fsync: true` makes `flush()` and `shutdown()` wait until the data is on the device.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   file: { type: file, path: logs/app.log, format: json, level: info }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "sink",
  writesSync: true,
  type: "file",
  description: "Appends one formatted line per record to a file, creating directories.",
  options: s.object({
    path: s.string({ minLength: 1 }).describe("The file; relative to the config file's directory."),
    format: s.formatter().default({ type: "json", options: {} }).describe("The formatter."),
    fsync: s.boolean().default(false).describe("fsync on flush and shutdown."),
    chain: chainOptionSchema(),
  }),
  permissions: (options, context) => {
    // Reads too: the file is stat-ed to notice outside moves (logrotate) and reopened.
    const dir = dirname(resolve(context.baseDir, options.path));
    return chainPermissions(options.chain, { read: [dir], write: [dir] });
  },
  create(options, context) {
    const path = resolve(context.baseDir, options.path);
    const chain = openFileChain(options.chain, path, context);
    const inner = context.createFormatter(options.format);
    const format = chain ? chain.wrap(inner) : inner;
    const onFormatError = formatErrorReporter(context);
    const bytesWritten = context.counter("bytes_written_total", "Bytes a sink wrote.");
    const reopens = context.counter("file_reopens_total", "Times a sink reopened its file.");
    try {
      Deno.mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new PluginError(
        `Cannot open sink "${context.id}": cannot create directory "${dirname(path)}": ${
          messageOf(error)
        }`,
        {
          cause: error,
        },
      );
    }
    let file: WatchedFile;
    try {
      // Checked before every batch below, not on WatchedFile's own timer: a file deleted by
      // another program took every record for up to a second (5,450 in a test), all lost.
      file = new WatchedFile(path, { checkInterval: Infinity });
    } catch (error) {
      throw new PluginError(
        `Cannot open sink "${context.id}": cannot open "${path}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    const writeSync = (records: readonly LogRecord[]) => {
      try {
        // One stat per batch (Python's WatchedFileHandler stats per record). A chain starts
        // afresh in a file that was moved away or truncated from outside.
        const event = file.check();
        if (event === "reopened") reopens.inc();
        if (event !== undefined) chain?.resync();
        const bytes = encodeBatch(records, format, onFormatError, true);
        file.write(bytes);
        bytesWritten.inc(bytes.length);
      } catch (error) {
        chain?.resync();
        throw error;
      }
    };
    return {
      // Records from a JsonBlockReader keep their fields as text for a formatter that
      // writes it as it is (the json formatter); a chain wraps the formatter but not the line.
      [JsonFieldsRecord.TAKES_TEXT]: JsonFieldsRecord.takesText(inner),
      writeSync,
      write: writeSync,
      flush() {
        if (options.fsync) file.sync();
      },
      reopen() {
        file.reopen();
        chain?.resync();
      },
      [Symbol.asyncDispose]() {
        try {
          if (options.fsync && file.isOpen) file.sync();
        } finally {
          file.close();
        }
        return Promise.resolve();
      },
    };
  },
});

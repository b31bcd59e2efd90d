/**
 * The built-in plugins. Adding one means its file, its tests, and one line here.
 *
 * @module
 */

import type { PluginDefinition } from "../src/plugin/types.ts";
import jsonFormatter from "./formatters/json.ts";
import logfmtFormatter from "./formatters/logfmt.ts";
import textFormatter from "./formatters/text.ts";
import consoleSink from "./sinks/console.ts";
import fileSink from "./sinks/file.ts";
import memorySink from "./sinks/memory.ts";
import rotatingFileSink from "./sinks/rotating_file.ts";
import loggerSource from "./sources/logger.ts";
import fileSource from "./sources/file.ts";
import stdinSource from "./sources/stdin.ts";
import httpSource from "./sources/http.ts";
import filterProcessor from "./processors/filter.ts";
import fieldsProcessor from "./processors/fields.ts";
import redactProcessor from "./processors/redact.ts";
import encryptedFormatter from "./formatters/encrypted.ts";
import syslogFormatter from "./formatters/syslog.ts";
import tcpSink from "./sinks/tcp.ts";
import udpSink from "./sinks/udp.ts";
import httpSink from "./sinks/http.ts";
import tcpSource from "./sources/tcp.ts";
import udpSource from "./sources/udp.ts";
import syslogSource from "./sources/syslog.ts";
import pythonSource from "./sources/python.ts";

/**
 * Every built-in plugin definition.
 *
 * @example List the built-in sinks
 * ```ts
 * import { builtins } from "./mod.ts";
 * console.assert(builtins.some((p) => p.kind === "sink" && p.type === "file"));
 * ```
 */
export const builtins: readonly PluginDefinition[] = [
  loggerSource,
  fileSource,
  stdinSource,
  httpSource,
  filterProcessor,
  fieldsProcessor,
  redactProcessor,
  textFormatter,
  jsonFormatter,
  logfmtFormatter,
  encryptedFormatter,
  consoleSink,
  fileSink,
  memorySink,
  rotatingFileSink,
  syslogFormatter,
  tcpSink,
  udpSink,
  httpSink,
  tcpSource,
  udpSource,
  syslogSource,
  pythonSource,
] as PluginDefinition[];

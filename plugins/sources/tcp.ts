/**
 * The `tcp` source: records from TCP connections, one per line or octet-counted frame.
 *
 * @module
 */

import { addressSchema } from "../../src/io/address.ts";
import { listenerPermissions, listenerShape } from "../../src/ingest/listener_options.ts";
import { listenTcp } from "../../src/ingest/listen_tcp.ts";
import { createFrameParser } from "../../src/ingest/frame_parser.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";

/**
 * Listens on `address` and reads every connection as a stream of frames: newline-delimited
 * or octet-counted (RFC 6587), detected per connection with `framing: auto`. Each frame is
 * parsed as a JSON object (`parser: json`, the default: `time`, `level`, `logger`, `message`
 * and other keys as fields), plain text (the message of an INFO record) or a syslog message.
 * Reading a connection pauses while the pipeline is full (back-pressure). Oversized frames,
 * invalid UTF-8, unparseable frames, framing errors, connections over `max_connections` and
 * records over `rate_limit` are rejected and counted in `sluice_records_rejected_total` by
 * reason; the connection keeps going (a broken octet count closes that connection only).
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   lines: { type: tcp, address: 127.0.0.1:9000, parser: json }
 *   text:  { type: tcp, address: 127.0.0.1:9001, parser: text, max_line_bytes: 64KiB }
 * sinks:
 *   out: { type: console }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.sources.text?.options.parser, "text");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "tcp",
  description:
    "Records from TCP connections: JSON, text or syslog lines, newline or octet-counted framing.",
  options: s.object({
    address: addressSchema().describe("host:port to listen on."),
    parser: s.enum(["json", "text", "syslog"] as const).default("json").describe(
      "How each frame is read.",
    ),
    framing: s.enum(["auto", "newline", "octet_counting"] as const).default("auto").describe(
      "Frame delimiting; auto detects octet counting per connection.",
    ),
    max_line_bytes: s.bytes().default(1024 * 1024).describe(
      "Longest frame; longer ones are rejected (frame_too_large) and skipped.",
    ),
    invalid_utf8: s.enum(["reject", "replace"] as const).default("reject").describe(
      "Reject frames with invalid UTF-8, or decode them with U+FFFD.",
    ),
    logger: s.string().optional().describe(
      "Logger name of text records; the source id when omitted.",
    ),
    ...listenerShape(),
  }),
  permissions: listenerPermissions,
  create(options, context) {
    return listenTcp(options, context, {
      framing: options.framing,
      nulDelimiter: false,
      maxFrameBytes: options.max_line_bytes,
      parse: createFrameParser({
        format: options.parser,
        invalidUtf8: options.invalid_utf8,
        logger: options.logger ?? context.id,
      }),
    });
  },
});

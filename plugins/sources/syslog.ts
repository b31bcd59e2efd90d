/**
 * The `syslog` source: RFC 5424 and RFC 3164 messages over UDP or TCP.
 *
 * @module
 */

import { addressSchema } from "../../src/io/address.ts";
import { listenerPermissions, listenerShape } from "../../src/ingest/listener_options.ts";
import { listenTcp } from "../../src/ingest/listen_tcp.ts";
import { UdpIngest } from "../../src/ingest/udp_ingest.ts";
import { PROC_NET_UDP } from "../../src/io/udp_kernel_drops.ts";
import { createFrameParser } from "../../src/ingest/frame_parser.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";

/**
 * Receives syslog from rsyslog, syslog-ng, util-linux `logger`, Python's `SysLogHandler` and
 * network devices. Over TCP, octet counting and newline framing are detected per connection
 * and a NUL also ends a frame (Python's `SysLogHandler` sends `<PRI>msg\0` without framing).
 * The tolerant parser reads RFC 5424, RFC 3164, RFC 3339 timestamps in the 3164 layout and
 * bare `<PRI>msg`. The severity gives the level (emerg/alert/crit CRITICAL, err ERROR, warning
 * WARN, notice/info INFO, debug DEBUG); APP-NAME gives the logger; the `sd_id` element's
 * parameters become fields (and its `logger` parameter the logger, as the `syslog` formatter
 * writes it); other SD elements become object fields named by SD-ID; with `metadata: true`,
 * `hostname`, `app_name`, `procid`, `msgid`, `facility` and `severity` are fields too. A JSON
 * object message (or `@cee:` JSON) is read as the record's content. Lines without a valid
 * `<PRI>` are rejected as `invalid_syslog` and counted.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   sys:     { type: syslog, address: 127.0.0.1:5514, protocol: udp }
 *   sys_tcp: { type: syslog, address: 127.0.0.1:5514, protocol: tcp }
 * sinks:
 *   out: { type: console }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.sources.sys_tcp?.options.protocol, "tcp");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "syslog",
  description: "Syslog messages (RFC 5424, RFC 3164 and common variants) over UDP or TCP.",
  options: s.object({
    address: addressSchema().describe("host:port to listen on."),
    protocol: s.enum(["udp", "tcp"] as const).default("udp").describe("Transport."),
    framing: s.enum(["auto", "newline", "octet_counting"] as const).default("auto").describe(
      "TCP frame delimiting; auto detects octet counting per connection.",
    ),
    max_line_bytes: s.bytes().default(64 * 1024).describe(
      "Longest TCP frame; longer ones are rejected (frame_too_large) and skipped.",
    ),
    invalid_utf8: s.enum(["reject", "replace"] as const).default("reject").describe(
      "Reject messages with invalid UTF-8, or decode them with U+FFFD.",
    ),
    sd_id: s.string({ minLength: 1 }).default("fields@32473").describe(
      "The SD-ID whose parameters become the record's fields.",
    ),
    metadata: s.boolean().default(true).describe(
      "Add hostname, app_name, procid, msgid, facility and severity fields.",
    ),
    max_pending: s.integer({ min: 1 }).default(100_000).describe(
      "UDP: records held while the pipeline is full; more are rejected (backpressure).",
    ),
    ...listenerShape(),
  }),
  permissions(options) {
    const needs = listenerPermissions(options);
    // udp: /proc/net/udp{,6} holds the kernel's drop count for the socket, for /metrics.
    return options.protocol === "udp"
      ? { ...needs, read: [...needs.read ?? [], ...PROC_NET_UDP] }
      : needs;
  },
  create(options, context) {
    const parse = createFrameParser({
      format: "syslog",
      invalidUtf8: options.invalid_utf8,
      sdId: options.sd_id,
      metadata: options.metadata,
    });
    if (options.protocol === "udp") {
      return new UdpIngest({
        address: options.address,
        frames: "datagram",
        maxPending: options.max_pending,
        parse,
      }, context);
    }
    return listenTcp(options, context, {
      framing: options.framing,
      nulDelimiter: true,
      maxFrameBytes: options.max_line_bytes,
      parse,
    });
  },
});

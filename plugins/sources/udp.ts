/**
 * The `udp` source: records from UDP datagrams.
 *
 * @module
 */

import { addressSchema, formatAddress } from "../../src/io/address.ts";
import { UdpIngest } from "../../src/ingest/udp_ingest.ts";
import { PROC_NET_UDP } from "../../src/io/udp_kernel_drops.ts";
import { createFrameParser } from "../../src/ingest/frame_parser.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";

/**
 * Listens on `address` for datagrams. With `parser: json` or `text` each line of a datagram
 * is a record; with `parser: syslog` each datagram is one message (which may span lines).
 * UDP senders cannot be slowed down: while the pipeline is full, up to `max_pending` records
 * wait and the rest are rejected as `backpressure`. Parse failures are rejected and counted
 * by reason (`invalid_json`, `invalid_utf8`, `invalid_syslog` …).
 *
 * It cannot acknowledge: a datagram has no reply channel, so there is no `acknowledgements`
 * option (a config with one is refused) and a sender never learns of a record lost or
 * refused. Senders that need every record kept use the `http` source with
 * `acknowledgements: true` (docs/disk_buffer.md).
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   metrics_lines: { type: udp, address: 127.0.0.1:9002, parser: json }
 * sinks:
 *   out: { type: console }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.sources.metrics_lines?.type, "udp");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "udp",
  description: "Records from UDP datagrams: JSON or text lines, or one syslog message each.",
  options: s.object({
    address: addressSchema().describe("host:port to listen on."),
    parser: s.enum(["json", "text", "syslog"] as const).default("json").describe(
      "How each datagram (or line) is read.",
    ),
    invalid_utf8: s.enum(["reject", "replace"] as const).default("reject").describe(
      "Reject datagrams with invalid UTF-8, or decode them with U+FFFD.",
    ),
    logger: s.string().optional().describe(
      "Logger name of text records; the source id when omitted.",
    ),
    max_pending: s.integer({ min: 1 }).default(100_000).describe(
      "Records held while the pipeline is full; more are rejected (backpressure).",
    ),
  }),
  permissions(options) {
    // /proc/net/udp{,6}: the kernel's drop count for the socket, for /metrics.
    return { net: [formatAddress(options.address)], read: PROC_NET_UDP };
  },
  create(options, context) {
    return new UdpIngest({
      address: options.address,
      frames: options.parser === "syslog" ? "datagram" : "lines",
      maxPending: options.max_pending,
      parse: createFrameParser({
        format: options.parser,
        invalidUtf8: options.invalid_utf8,
        logger: options.logger ?? context.id,
      }),
    }, context);
  },
});

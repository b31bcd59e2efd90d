/**
 * The `udp` sink: one formatted record per datagram.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { addressSchema, formatAddress } from "../../src/io/address.ts";
import { openUdp, type UdpSocket } from "../../src/io/udp_socket.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";
import { formatErrorReporter } from "../../src/plugin/format_error_reporter.ts";
import { messageOf } from "../../src/core/message_of.ts";

const encoder = new TextEncoder();

/**
 * Sends each record as one datagram (no trailing newline), as syslog over UDP (RFC 5426)
 * and most UDP log receivers expect. A record longer than `max_datagram_bytes` is truncated
 * at a UTF-8 character boundary (`oversize: truncate`, counted in
 * `sluice_records_truncated_total`) or dropped (`oversize: drop`, counted in
 * `sluice_records_dropped_total{reason="oversize"}`). The default limit, 8 KiB, is rsyslog's
 * default message size; RFC 5426 receivers must accept 480 bytes and should accept 2048.
 * UDP has no delivery guarantee and no back-pressure: a receiver that is down or slow loses
 * datagrams without telling. Use the `tcp` sink when every record matters.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   syslog_udp:
 *     type: udp
 *     address: 127.0.0.1:514
 *     format: { type: syslog, rfc: 5424, app_name: payments }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 */
export default definePlugin({
  kind: "sink",
  type: "udp",
  description: "One formatted record per UDP datagram; oversized records truncated or dropped.",
  options: s.object({
    address: addressSchema().describe("host:port of the receiver."),
    format: s.formatter().default({ type: "json", options: {} }).describe("The formatter."),
    max_datagram_bytes: s.integer({ min: 64, max: 65_507 }).default(8192).describe(
      "Largest datagram payload.",
    ),
    oversize: s.enum(["truncate", "drop"] as const).default("truncate").describe(
      "What happens to a record over max_datagram_bytes.",
    ),
  }),
  permissions(options) {
    // Port 0 only: the flag lets the process bind an ephemeral port there, not listen on or
    // connect to any other port of that address.
    const local = localAddressFor(options.address.hostname);
    return { net: [formatAddress(options.address), formatAddress({ hostname: local, port: 0 })] };
  },
  create(options, context) {
    const format = context.createFormatter(options.format);
    const max = options.max_datagram_bytes;
    const truncated = context.counter(
      "records_truncated_total",
      "Records a sink cut to fit its size limit.",
    );
    const dropped = context.counter(
      "records_dropped_total",
      "Records dropped, by component and reason.",
      { reason: "oversize" },
    );
    const onFormatError = formatErrorReporter(context);
    const target = options.address;
    const local = localAddressFor(target.hostname);
    let socket: UdpSocket | undefined;
    return {
      async write(records: readonly LogRecord[]) {
        socket ??= await openUdp({ hostname: local, port: 0 });
        for (let i = 0; i < records.length; i++) {
          const record = records[i]!;
          let line: string | Uint8Array;
          try {
            line = format(record);
          } catch (error) {
            onFormatError(record, error);
            continue;
          }
          let bytes = typeof line === "string" ? encoder.encode(line) : line;
          if (bytes.length > max) {
            if (options.oversize === "drop") {
              dropped.inc();
              context.log.warnOnce(
                `oversize:${context.id}`,
                `Sink "${context.id}" dropped a record of ${bytes.length} bytes (max_datagram_bytes is ${max})`,
              );
              continue;
            }
            bytes = bytes.subarray(0, utf8Boundary(bytes, max));
            truncated.inc();
          }
          try {
            await socket.send(bytes, target);
          } catch (error) {
            // Only the unsent rest is retried: the error names it (see DeliveryError).
            throw Object.assign(
              new Error(
                `Cannot send to udp ${formatAddress(target)} for sink "${context.id}": ${
                  messageOf(error)
                }`,
                { cause: error },
              ),
              { records: records.slice(i) },
            );
          }
        }
      },
      async [Symbol.asyncDispose]() {
        await socket?.close();
        socket = undefined;
      },
    };
  },
});

/** The largest cut at or below `max` that does not split a UTF-8 sequence. */
function utf8Boundary(bytes: Uint8Array, max: number): number {
  let cut = max;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}

/**
 * The address the sending socket binds: the loopback address for a loopback receiver (so
 * neither the socket nor the permission it needs reaches other interfaces), else the wildcard
 * address of the receiver's family.
 */
function localAddressFor(hostname: string): string {
  const v6 = hostname.includes(":");
  const loopback = hostname === "localhost" || /^127\./.test(hostname) ||
    /^\[?::1\]?$/.test(hostname);
  if (loopback) return v6 ? "::1" : "127.0.0.1";
  return v6 ? "::" : "0.0.0.0";
}

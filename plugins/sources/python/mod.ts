/**
 * The `python` source: what Python's `logging.handlers.SocketHandler` and `DatagramHandler`
 * send.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { addressSchema } from "../../../src/io/address.ts";
import { listenerPermissions, listenerShape } from "../../../src/ingest/listener_options.ts";
import { listenTcp } from "../../../src/ingest/listen_tcp.ts";
import { UdpIngest } from "../../../src/ingest/udp_ingest.ts";
import { PROC_NET_UDP } from "../../../src/io/udp_kernel_drops.ts";
import type { FrameParser } from "../../../src/ingest/frame_parser.ts";
import { recordFromPythonDict } from "../../../src/parse/python_log_record.ts";
import { ParseError } from "../../../src/parse/parse_error.ts";
import { decodePickle, type PickleValue } from "./safe_pickle.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { s } from "../../../src/schema/schema.ts";

/**
 * Receives Python `logging` records: `SocketHandler` over TCP (`protocol: tcp`) and
 * `DatagramHandler` over UDP (`protocol: udp`). Each frame is a 4-byte big-endian length and
 * a pickled `LogRecord.__dict__`. Pickles are decoded by a decoder that understands plain data
 * only and has no way to import or call anything: a frame holding GLOBAL, REDUCE, BUILD and
 * the like is rejected as `unsafe_pickle` and counted — untrusted pickles are never
 * evaluated. `name` becomes the logger, `levelno` the level (Python's numbers are Sluice's),
 * `msg` (already merged with `args` by the handler) the message, `created` the time,
 * `exc_text` the error; where the call was made goes to `fields.python`; every other
 * attribute (the `extra={...}` of the call) becomes a field with its Python type kept (bytes
 * as text). A value that is not plain data — a `datetime`, a `Decimal`, an object, and under
 * `SocketHandler`'s protocol 1 also `bytes` and sets — is pickled with those same opcodes, so
 * such a record is rejected as `unsafe_pickle` too: log those values as strings.
 *
 * Python side:
 * `logging.getLogger().addHandler(logging.handlers.SocketHandler("127.0.0.1", 9020))`.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   py:     { type: python, address: 127.0.0.1:9020, protocol: tcp }
 *   py_udp: { type: python, address: 127.0.0.1:9021, protocol: udp }
 * sinks:
 *   out: { type: console }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.sources.py?.type, "python");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "python",
  description:
    "Python logging's SocketHandler (TCP) and DatagramHandler (UDP) records, decoded by a safe pickle reader.",
  options: s.object({
    address: addressSchema().describe("host:port to listen on."),
    protocol: s.enum(["tcp", "udp"] as const).default("tcp").describe(
      "tcp for SocketHandler, udp for DatagramHandler.",
    ),
    max_frame_bytes: s.bytes().default(1024 * 1024).describe(
      "Largest pickled record; larger ones are rejected (frame_too_large) and skipped.",
    ),
    max_nodes: s.integer({ min: 1 }).default(100_000).describe(
      "Most values one record may expand to (shared references counted each time).",
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
    const limits = { maxNodes: options.max_nodes };
    const parsePickle: FrameParser = (bytes, now) => recordOf(decodePickle(bytes, limits), now);
    if (options.protocol === "udp") {
      return new UdpIngest({
        address: options.address,
        frames: "datagram",
        maxPending: options.max_pending,
        parse(bytes, now) {
          if (bytes.length < 4) {
            throw new ParseError("Datagram shorter than its length prefix", "bad_length");
          }
          const length = ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) +
            bytes[3]!;
          if (length !== bytes.length - 4) {
            throw new ParseError(
              `Datagram length prefix says ${length} bytes, datagram holds ${bytes.length - 4}`,
              "bad_length",
            );
          }
          return parsePickle(bytes.subarray(4), now);
        },
      }, context);
    }
    return listenTcp(options, context, {
      framing: "length_prefixed",
      nulDelimiter: false,
      maxFrameBytes: options.max_frame_bytes,
      parse: parsePickle,
    });
  },
});

function recordOf(value: PickleValue, now: number): LogRecord {
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    value instanceof Uint8Array
  ) {
    throw new ParseError("Expected a pickled LogRecord dict", "not_a_log_record");
  }
  return recordFromPythonDict(plain(value) as Record<string, unknown>, now);
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes become text (UTF-8, else Latin-1) so that every formatter can write them. */
function plain(value: PickleValue): unknown {
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value);
    } catch {
      return latin1.decode(value);
    }
  }
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i]!;
      if (typeof item === "object" && item !== null) {
        copy ??= value.slice();
        copy[i] = plain(item);
      }
    }
    return copy ?? value;
  }
  for (const key in value) {
    const item = value[key]!;
    if (typeof item === "object" && item !== null) value[key] = plain(item) as PickleValue;
  }
  return value;
}

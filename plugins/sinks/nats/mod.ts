/**
 * The `nats` sink: records published to a NATS JetStream stream, counted as delivered only
 * once the stream has stored them.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { concatBytes } from "../../../src/core/concat_bytes.ts";
import { encodeText } from "../../../src/io/encode_batch.ts";
import { loadNats, type PubAck } from "../../../src/nats/nats_api.ts";
import { connectionOptions, NatsLink } from "../../../src/nats/nats_link.ts";
import { natsPermissions, natsShape, natsSubject } from "../../../src/nats/nats_options.ts";
import { ensureStream } from "../../../src/nats/nats_stream.ts";
import { DeliveryError } from "../../../src/plugin/delivery_error.ts";
import { definePlugin } from "../../../src/plugin/define_plugin.ts";
import { formatErrorReporter } from "../../../src/plugin/format_error_reporter.ts";
import { PluginError } from "../../../src/plugin/plugin_error.ts";
import { s } from "../../../src/schema/schema.ts";
import { messageIds } from "./message_ids.ts";
import { messageOf } from "../../../src/core/message_of.ts";

/**
 * Publishes each batch as JetStream messages of up to `batch.max_records` records (one
 * formatted line each, `json` by default, which the `nats` source reads back) and
 * `batch.max_bytes` bytes, at most `max_in_flight` messages awaiting their acknowledgement
 * at once. A record counts as delivered only when the stream acknowledged the message that
 * holds it; a message without an acknowledgement within `ack_timeout` is retried by the
 * pipeline (then handed to the `fallback` like every sink's).
 *
 * Every message carries a message id (`Nats-Msg-Id`) made from the ids Sluice gives its
 * records, and a retried record is resent in the same message with the same id: when only
 * the acknowledgement was lost, the stream drops the resent copy within its
 * `duplicate_window` (counted in `sluice_nats_duplicates_total`) instead of storing it twice.
 *
 * The stream is created when missing, from `subjects` (default: the sink's subject),
 * `replicas`, `retention`, `max_age`, `max_bytes` and `duplicate_window`; when it exists,
 * the settings the config gives must match, else the sink refuses to start. The sink starts
 * when no server answers: records wait in its queue, the connection is retried with
 * back-off (250 ms doubling to 10 s), and once connected the client reconnects by itself to
 * any server of the cluster. Credentials come from the environment or files (`auth`), never
 * written into the config.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   bus:
 *     type: nats
 *     servers: [nats://10.0.0.1:4222, nats://10.0.0.2:4222, nats://10.0.0.3:4222]
 *     stream: LOGS
 *     subject: logs.app
 *     subjects: ["logs.>"]
 *     replicas: 3
 *     auth: { token: "\${NATS_TOKEN}" }
 *     fallback: spill
 *   spill: { type: file, path: logs/nats_fallback.log, format: json }
 * `;
 * const { config } = await parseConfigText(yaml, "agent.yaml", { env: { NATS_TOKEN: "s3cret" } });
 * assert.equal(config.sinks.bus?.options.replicas, 3);
 * ```
 */
export default definePlugin({
  kind: "sink",
  type: "nats",
  description:
    "Records to a NATS JetStream stream: publish acknowledgements, de-duplicating message ids, reconnects.",
  options: s.object({
    ...natsShape,
    subject: natsSubject().describe("The subject records are published to, such as logs.app."),
    format: s.formatter().default({ type: "json", options: {} }).describe(
      "Formatter of each record's line (json, which the nats source reads).",
    ),
    batch: s.object({
      max_records: s.integer({ min: 1 }).default(1000).describe("Most records per message."),
      max_bytes: s.bytes().default(512 * 1024).describe(
        "Most bytes per message (the server's max_payload, 1 MiB by default, bounds it).",
      ),
    }).default({ max_records: 1000, max_bytes: 512 * 1024 }),
    max_in_flight: s.integer({ min: 1 }).default(64).describe(
      "Most messages awaiting the stream's acknowledgement at once.",
    ),
    ack_timeout: s.duration().default(10_000).describe(
      "How long a message waits for its acknowledgement before it is retried.",
    ),
  }, {
    refine(options, path, ctx) {
      if (/(^|\.)(\*|>)(\.|$)/.test(options.subject)) {
        ctx.issues.push({
          path: [...path, "subject"],
          message: `The subject "${options.subject}" has a wildcard; publish to one subject`,
          hint: "put wildcards in subjects:, the stream's list",
        });
      }
    },
  }),
  permissions: natsPermissions,
  async create(options, context) {
    const format = context.createFormatter(options.format);
    const onBadRecord = formatErrorReporter(context);
    const duplicates = context.counter(
      "nats_duplicates_total",
      "Records the stream already had (a resend after a lost acknowledgement), not stored twice.",
    );
    const ids = messageIds(options.batch.max_records, options.batch.max_bytes);
    // The NATS client loads here, not with the plugin: checking a config needs no npm package.
    const nats = await loadNats();
    let connectOptions;
    try {
      connectOptions = connectionOptions(nats, options, context.id, context.baseDir);
    } catch (error) {
      throw new PluginError(
        `Cannot open sink "${context.id}": cannot read its NATS credentials: ${messageOf(error)}`,
        { cause: error },
      );
    }
    const link = new NatsLink(
      nats,
      connectOptions,
      `Sink "${context.id}"`,
      context.log,
      async (nc) => {
        const jsm = await nats.jetstreamManager(nc);
        const created = await ensureStream(nats, jsm, options, options.subject);
        if (created === "created") {
          context.log.info(`Sink "${context.id}" created stream "${options.stream}"`);
        }
      },
    );
    await link.firstAttempt;
    if (link.fatal) {
      await link[Symbol.asyncDispose]();
      throw new PluginError(`Cannot open sink "${context.id}": ${link.fatal.message}`, {
        cause: link.fatal,
      });
    }
    const publish = async (records: readonly LogRecord[]): Promise<void> => {
      const nc = link.connection;
      if (!nc) {
        throw new Error(
          `Not connected to NATS at ${options.servers.join(", ")} (reconnecting)`,
        );
      }
      const js = nats.jetstream(nc, { timeout: options.ack_timeout });
      const messages = ids.group(records, format, onBadRecord);
      const failed: LogRecord[] = [];
      let firstError: unknown;
      const inFlight = new Set<Promise<void>>();
      for (const message of messages) {
        const payload = joinLines(message.lines);
        const sent: Promise<void> = js.publish(options.subject, payload, {
          msgID: message.id,
          timeout: options.ack_timeout,
        }).then((ack: PubAck) => {
          if (ack.duplicate) duplicates.inc(message.records.length);
        }, (error: unknown) => {
          firstError ??= error;
          for (const r of message.records) failed.push(r);
        }).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
        if (inFlight.size >= options.max_in_flight) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (failed.length > 0) {
        const why = messageOf(firstError);
        throw new DeliveryError(
          `Cannot publish ${failed.length} of ${records.length} records to stream "${options.stream}": ${why}`,
          "nats_publish",
          true,
          { cause: firstError, records: failed },
        );
      }
    };
    return {
      write(records) {
        if (link.fatal) {
          throw new DeliveryError(
            `Cannot publish to stream "${options.stream}": ${link.fatal.message}`,
            "stream_mismatch",
          );
        }
        return publish(records);
      },
      async [Symbol.asyncDispose]() {
        await link[Symbol.asyncDispose]();
      },
    };
  },
});

const NEWLINE = new Uint8Array([10]);

/** One message's payload: the lines, each ended by a newline. */
function joinLines(lines: readonly (string | Uint8Array)[]): Uint8Array {
  let text = "";
  let parts: Uint8Array[] | undefined;
  for (const line of lines) {
    if (typeof line === "string") text += line + "\n";
    else {
      parts ??= [];
      if (text !== "") parts.push(encodeText(text));
      text = "";
      parts.push(line, NEWLINE);
    }
  }
  if (!parts) return encodeText(text);
  if (text !== "") parts.push(encodeText(text));
  return concatBytes(parts);
}

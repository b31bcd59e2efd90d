/**
 * The `nats` source: a durable JetStream pull consumer that several aggregators share.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import {
  type Consumer,
  type ConsumerConfig,
  type JsMsg,
  loadNats,
  type NatsConnection,
} from "../../src/nats/nats_api.ts";
import { connectionOptions, NatsLink } from "../../src/nats/nats_link.ts";
import { natsName, natsPermissions, natsShape, natsSubject } from "../../src/nats/nats_options.ts";
import { ensureStream, StreamMismatchError } from "../../src/nats/nats_stream.ts";
import { ParseError } from "../../src/parse/parse_error.ts";
import { parseJsonLine } from "../../src/parse/record_from_object.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { PluginError } from "../../src/plugin/plugin_error.ts";
import { s } from "../../src/schema/schema.ts";
import { messageOf } from "../../src/core/message_of.ts";

/** The JetStream API's error code for a missing consumer. */
const CONSUMER_NOT_FOUND = 10014;
/** Nanoseconds per millisecond. */
const NS = 1_000_000;
/** How long one pull waits on the server for messages before the next pull. */
const PULL_EXPIRES = 1_000;
/** Pause after a failed pull (leader election, lost server) before the next. */
const PULL_RETRY = 500;

/**
 * Reads the stream through the durable pull consumer `consumer` (created when missing,
 * explicit acknowledgements, from the first message): every aggregator that names the same
 * consumer shares the stream's messages, each message going to one of them. Each message's
 * lines are parsed as JSON records (what the `nats` sink writes) and routed; the message is
 * acknowledged only once every sink its records reach holds them safely — in its disk buffer
 * (`buffer.type: disk`) or, for a sink with a memory buffer, delivered — as the `http`
 * source's `acknowledgements: true`. Until then the message counts against
 * `max_in_flight`, so sinks that fall behind make the source pull less. A message whose
 * records are not safe within `ack_timeout` is handed back (`nak`) and redelivered; one
 * whose aggregator died is redelivered after `ack_wait` to another. Redeliveries are counted
 * in `sluice_nats_redeliveries_total`; a sink may then see a record twice, never lose one.
 *
 * The stream is created when missing only if `subjects` is given (else the source waits for
 * an agent to create it); `filter_subject` reads part of it.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   bus:
 *     type: nats
 *     servers: [nats://10.0.0.1:4222, nats://10.0.0.2:4222]
 *     stream: LOGS
 *     consumer: aggregators
 *     auth: { creds_file: /etc/sluice/aggregator.creds }
 * sinks:
 *   db: { type: sqlite, inputs: [bus], path: logs/sluice.db, buffer: { type: disk } }
 * `;
 * const { config } = await parseConfigText(yaml, "aggregator.yaml");
 * assert.equal(config.sources.bus?.options.consumer, "aggregators");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "nats",
  description:
    "A durable JetStream pull consumer shared by aggregators; messages acknowledged once every sink holds their records.",
  options: s.object({
    ...natsShape,
    consumer: natsName("consumer").describe(
      "The durable consumer; aggregators with the same name share the messages.",
    ),
    filter_subject: natsSubject().optional().describe("Read only messages of these subjects."),
    max_in_flight: s.integer({ min: 1 }).default(256).describe(
      "Most messages pulled and not yet acknowledged (the consumer's max_ack_pending is this or more).",
    ),
    ack_wait: s.duration().default(30_000).describe(
      "How long the server waits for an acknowledgement before it redelivers a message.",
    ),
    ack_timeout: s.duration().default(10_000).describe(
      "How long a message waits for its records to be safe in every sink before it is handed back.",
    ),
  }, {
    refine(options, path, ctx) {
      if (options.ack_timeout >= options.ack_wait) {
        ctx.issues.push({
          path: [...path, "ack_timeout"],
          message:
            `ack_timeout (${options.ack_timeout} ms) must be shorter than ack_wait (${options.ack_wait} ms)`,
          hint: "else the server redelivers messages an aggregator is still working on",
        });
      }
    },
  }),
  permissions: natsPermissions,
  async create(options, context) {
    const redeliveries = context.counter(
      "nats_redeliveries_total",
      "Messages the stream delivered again (an aggregator died or handed them back).",
    );
    const notSafe = context.counter(
      "records_not_acknowledged_total",
      "Records a source answered 503 for: not safe in every sink in time (the sender retries).",
    );
    const errors = context.counter("component_errors_total", "Failed operations of a component.", {
      kind: "source",
    });
    // The NATS client loads here, not with the plugin: checking a config needs no npm package.
    const nats = await loadNats();
    let connectOptions;
    try {
      connectOptions = connectionOptions(nats, options, context.id, context.baseDir);
    } catch (error) {
      throw new PluginError(
        `Cannot open source "${context.id}": cannot read its NATS credentials: ${messageOf(error)}`,
        { cause: error },
      );
    }
    let consumer: Consumer | undefined;
    const what = `Source "${context.id}"`;
    const bind = async (nc: NatsConnection) => {
      const jsm = await nats.jetstreamManager(nc);
      for (;;) {
        const found = await ensureStream(nats, jsm, options);
        if (found === "created") context.log.info(`${what} created stream "${options.stream}"`);
        if (found !== "missing") break;
        context.log.warnOnce(
          `${what}:missing`,
          `${what}: stream "${options.stream}" does not exist yet; waiting for an agent to create it`,
        );
        await sleep(1000, context.signal);
        if (context.signal.aborted) return;
      }
      const wanted: Partial<ConsumerConfig> = {
        durable_name: options.consumer,
        ack_policy: "explicit",
        deliver_policy: "all",
        ack_wait: options.ack_wait * NS,
        max_ack_pending: Math.max(1000, options.max_in_flight * 4),
        ...(options.filter_subject ? { filter_subject: options.filter_subject } : {}),
      };
      try {
        const info = await jsm.consumers.info(options.stream, options.consumer);
        if (info.config.ack_policy !== "explicit") {
          throw new StreamMismatchError(
            `Consumer "${options.consumer}" of stream "${options.stream}" exists with ack_policy ${info.config.ack_policy}; it needs explicit acknowledgements`,
          );
        }
        if ((info.config.filter_subject ?? undefined) !== options.filter_subject) {
          throw new StreamMismatchError(
            `Consumer "${options.consumer}" of stream "${options.stream}" exists with filter_subject ${
              info.config.filter_subject ?? "(none)"
            }, the config asks ${options.filter_subject ?? "(none)"}`,
          );
        }
      } catch (error) {
        if (!(error instanceof nats.JetStreamApiError) || error.code !== CONSUMER_NOT_FOUND) {
          throw error;
        }
        await jsm.consumers.add(options.stream, wanted).catch(async (addError) => {
          // Another aggregator created it meanwhile.
          if (!(addError instanceof nats.JetStreamApiError)) throw addError;
          await jsm.consumers.info(options.stream, options.consumer);
        });
      }
      consumer = await nats.jetstream(nc).consumers.get(options.stream, options.consumer);
    };
    const link = new NatsLink(nats, connectOptions, what, context.log, bind);
    await link.firstAttempt;
    if (link.fatal) {
      await link[Symbol.asyncDispose]();
      throw new PluginError(`Cannot open source "${context.id}": ${link.fatal.message}`, {
        cause: link.fatal,
      });
    }

    let inFlight = 0;
    // Pull again once half of max_in_flight is free, not at each free slot: pulling at each
    // one made every pull fetch one message (a round trip per message) once the sinks were
    // the bottleneck.
    const lowWater = Math.floor(options.max_in_flight / 2);
    let roomFor: (() => void) | undefined;
    const settled = new Set<Promise<void>>();
    const done = () => {
      inFlight--;
      if (inFlight <= lowWater) roomFor?.();
    };
    const handle = (message: JsMsg): void => {
      if (message.redelivered) redeliveries.inc();
      const records = parseMessage(message.data, (reason, count) => context.reject(reason, count));
      if (records.length === 0) {
        message.ack();
        return;
      }
      inFlight++;
      const safe = context.emitAcknowledged(records, options.ack_timeout).then((ok) => {
        if (ok) message.ack();
        else {
          notSafe.inc(records.length);
          // Back off before the redelivery so a failing sink is not flooded with the same.
          message.nak(1000);
        }
      }).finally(() => {
        settled.delete(safe);
        done();
      });
      settled.add(safe);
    };
    let stopped = false;
    const run = async () => {
      while (!stopped) {
        if (inFlight > lowWater) {
          await new Promise<void>((resolve) => roomFor = resolve);
          roomFor = undefined;
          continue;
        }
        if (!consumer || link.connection === undefined) {
          await sleep(PULL_RETRY, context.signal);
          continue;
        }
        try {
          const batch = await consumer.fetch({
            max_messages: options.max_in_flight - inFlight,
            expires: PULL_EXPIRES,
          });
          for await (const message of batch) {
            if (stopped) {
              // Not routed: the server redelivers it (to this or another aggregator).
              message.nak();
              continue;
            }
            handle(message);
          }
        } catch (error) {
          if (stopped) break;
          errors.inc();
          context.log.warnOnce(
            `${what}:pull`,
            `${what} cannot pull from consumer "${options.consumer}" of stream "${options.stream}"; retrying`,
            error,
          );
          await sleep(PULL_RETRY, context.signal);
        }
      }
    };
    let running: Promise<void> | undefined;
    return {
      start() {
        running = run();
      },
      async [Symbol.asyncDispose]() {
        stopped = true;
        roomFor?.();
        await running;
        // Acknowledge what the sinks still take; the rest is redelivered.
        await Promise.all(settled);
        await link[Symbol.asyncDispose]();
      },
    };
  },
});

const decoder = new TextDecoder();

/** The records of one message's JSON lines; malformed lines are rejected by reason. */
function parseMessage(
  data: Uint8Array,
  reject: (reason: string, count: number) => void,
): LogRecord[] {
  const now = Date.now();
  const text = decoder.decode(data);
  const records: LogRecord[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    if (end > start) {
      const line = text.slice(start, end);
      try {
        records.push(parseJsonLine(line, now));
      } catch (error) {
        if (line.trim() !== "") {
          reject(error instanceof ParseError ? error.reason : "invalid_json", 1);
        }
      }
    }
    start = end + 1;
  }
  return records;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener("abort", wake);
  });
}

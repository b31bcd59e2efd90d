/**
 * The UDP listener behind the `udp`, `syslog` and `python` sources.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import type { FrameParser } from "./frame_parser.ts";
import { ParseError } from "../parse/parse_error.ts";
import { PluginError } from "../plugin/plugin_error.ts";
import type { SourceContext } from "../plugin/types.ts";
import { type Address, formatAddress } from "../io/address.ts";
import { hasDenoDatagrams, openUdp } from "../io/udp_socket.ts";
import { readKernelDrops } from "../io/udp_kernel_drops.ts";
import { messageOf } from "../core/message_of.ts";
import { receiveUdp } from "./udp_receiver.ts";
import type { Counter } from "../plugin/types.ts";

/**
 * The shared ring the receiving Worker writes datagrams into; beyond it datagrams are dropped
 * as `backpressure`. 16 MiB is over 50,000 syslog datagrams of 300 bytes (a main thread busy
 * for half a second at 100,000 datagrams/s), and it is all a flood costs while the pipeline
 * is stalled: the ring is allocated once and becomes resident as traffic cycles through it.
 */
const MAX_HANDOVER_BYTES = 16 * 1024 * 1024;
/** How often the kernel's drop count for the socket is read into /metrics. */
const KERNEL_DROPS_INTERVAL_MS = 1000;

/** Options of a {@linkcode UdpIngest}. */
export interface UdpIngestOptions {
  /** Where to listen (port 0 picks a free one). */
  address: Address;
  /** `datagram`: each datagram is one frame; `lines`: each line of a datagram is one. */
  frames: "datagram" | "lines";
  /** Turns a frame into a record. */
  parse: FrameParser;
  /**
   * Records held while the pipeline applies back-pressure; datagrams beyond it are rejected
   * (`backpressure`): UDP senders cannot be slowed down.
   */
  maxPending: number;
}

/**
 * Receives datagrams, parses them and emits them in batches. While an emit waits for room,
 * new records are held up to `maxPending`; beyond that they are rejected and counted, since
 * a UDP sender cannot be paused. Parse failures are counted by their reason.
 *
 * @example Receive one datagram
 * ```ts
 * import dgram from "node:dgram";
 * import { UdpIngest } from "./udp_ingest.ts";
 * import { createFrameParser } from "./frame_parser.ts";
 * import assert from "node:assert/strict";
 * const got: string[] = [];
 * const context = {
 *   id: "udp", emit: (records: { message: string }[]) => (got.push(...records.map((r) => r.message)), Promise.resolve()),
 *   reject: () => {}, log: { warnOnce() {}, info() {} }, counter: () => ({ inc() {}, value: 0 }),
 * };
 * const ingest = new UdpIngest({
 *   address: { hostname: "127.0.0.1", port: 0 }, frames: "datagram", maxPending: 1000,
 *   parse: createFrameParser({ format: "text", invalidUtf8: "reject" }),
 * }, context as never);
 * await ingest.start();
 * const client = dgram.createSocket("udp4");
 * await new Promise((resolve) => client.send(new TextEncoder().encode("hi"), ingest.port, "127.0.0.1", resolve));
 * client.close();
 * while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
 * await ingest[Symbol.asyncDispose]();
 * assert.ok(got[0] === "hi");
 * ```
 */
export class UdpIngest implements AsyncDisposable {
  readonly #options: UdpIngestOptions;
  readonly #context: SourceContext;
  #socket: { close(): Promise<void> } | undefined;
  #hostname = "";
  #kernelDrops: Counter | undefined;
  #kernelSeen = 0;
  #kernelTimer: ReturnType<typeof setInterval> | undefined;
  #kernelReading: Promise<void> | undefined;
  #pending: LogRecord[] = [];
  #flushing: Promise<void> | undefined;
  #port = 0;
  readonly #rejects = new Map<string, number>();

  /** Creates the listener's state; `start()` binds. */
  constructor(options: UdpIngestOptions, context: SourceContext) {
    this.#options = options;
    this.#context = context;
  }

  /** The bound port. */
  get port(): number {
    return this.#port;
  }

  /**
   * Binds the socket. With Deno's datagram API a Worker receives (see
   * {@linkcode receiveUdp}); else `node:dgram` on the main thread. Throws a
   * {@linkcode PluginError} when the address is taken.
   */
  async start(): Promise<void> {
    const { address } = this.#options;
    const id = this.#context.id;
    try {
      if (hasDenoDatagrams()) {
        const receiver = await receiveUdp(address, {
          onDatagram: this.#onMessage,
          onDropped: (n) => {
            this.#reject("backpressure", undefined, n);
            this.#schedule();
          },
          onError: (message) =>
            this.#context.log.warnOnce(
              `source:${id}:udp_worker`,
              `Source "${id}" (UDP): ${message}`,
            ),
          maxBytes: MAX_HANDOVER_BYTES,
          maxDatagrams: this.#options.maxPending,
        });
        this.#socket = receiver;
        this.#port = receiver.port;
        this.#hostname = receiver.hostname;
      } else {
        const socket = await openUdp(address, this.#onMessage);
        this.#socket = socket;
        this.#port = socket.port;
        this.#hostname = address.hostname;
        this.#context.log.warnOnce(
          `source:${id}:udp_impl`,
          `Source "${id}" receives UDP through node:dgram, which drops bursts; run Deno with --unstable-net for its native datagram API`,
        );
      }
    } catch (error) {
      throw new PluginError(
        `Cannot listen for source "${id}" on udp ${formatAddress(address)}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    this.#kernelDrops = this.#context.counter(
      "udp_kernel_drops_total",
      "Datagrams the kernel dropped for a source's UDP socket (receive buffer full), from /proc/net/udp.",
    );
    const timer = setInterval(() => this.#readKernelDrops(), KERNEL_DROPS_INTERVAL_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#kernelTimer = timer;
  }

  /** Closes the socket and emits what is still pending. */
  async [Symbol.asyncDispose](): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    clearInterval(this.#kernelTimer);
    if (socket) await this.#readKernelDrops();
    await socket?.close();
    while (this.#flushing) await this.#flushing;
    this.#countRejects();
  }

  /** Adds what the kernel dropped since the last read to `sluice_udp_kernel_drops_total`. */
  #readKernelDrops(): Promise<void> {
    this.#kernelReading ??= readKernelDrops(this.#hostname, this.#port).then((drops) => {
      if (drops === undefined || drops <= this.#kernelSeen) return;
      const id = this.#context.id;
      this.#context.log.warnOnce(
        `source:${id}:kernel_drops`,
        `Source "${id}" lost datagrams in the kernel (its socket's receive buffer was full): ${
          drops - this.#kernelSeen
        } so far, counted in sluice_udp_kernel_drops_total`,
      );
      this.#kernelDrops?.inc(drops - this.#kernelSeen);
      this.#kernelSeen = drops;
    }, (error) => {
      clearInterval(this.#kernelTimer);
      this.#context.log.warnOnce(
        `source:${this.#context.id}:kernel_drops_unreadable`,
        `Source "${this.#context.id}" cannot count datagrams the kernel drops: ${messageOf(error)}`,
      );
    }).finally(() => this.#kernelReading = undefined);
    return this.#kernelReading;
  }

  readonly #onMessage = (message: Uint8Array): void => {
    const now = Date.now();
    const parse = this.#options.parse;
    if (this.#pending.length >= this.#options.maxPending) {
      this.#reject("backpressure", undefined);
      return this.#schedule();
    }
    if (this.#options.frames === "datagram") {
      this.#parseOne(parse, message, now);
    } else {
      let start = 0;
      while (start < message.length) {
        let end = message.indexOf(10, start);
        if (end === -1) end = message.length;
        if (end > start) this.#parseOne(parse, message.subarray(start, end), now);
        start = end + 1;
      }
    }
    this.#schedule();
  };

  #parseOne(parse: FrameParser, bytes: Uint8Array, now: number): void {
    try {
      this.#pending.push(parse(bytes, now));
    } catch (error) {
      if (error instanceof ParseError) this.#reject(error.reason, error.message);
      else this.#reject("parse_error", messageOf(error));
    }
  }

  #reject(reason: string, detail: string | undefined, count = 1): void {
    const seen = this.#rejects.get(reason);
    if (seen === undefined) {
      this.#context.log.warnOnce(
        `source:${this.#context.id}:reject:${reason}`,
        `Source "${this.#context.id}" rejected a datagram (${reason})${
          detail ? `: ${detail}` : ""
        }`,
      );
    }
    this.#rejects.set(reason, (seen ?? 0) + count);
  }

  #countRejects(): void {
    for (const [reason, n] of this.#rejects) if (n > 0) this.#context.reject(reason, n);
    this.#rejects.clear();
  }

  #schedule(): void {
    if (this.#flushing) return;
    this.#flushing = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() =>
      this.#flush()
    );
  }

  async #flush(): Promise<void> {
    try {
      this.#countRejects();
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        await this.#context.emit(batch);
        this.#countRejects();
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}

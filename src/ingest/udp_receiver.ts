/**
 * Receiving UDP off the main thread: a Worker drains the socket and hands batches over.
 *
 * @module
 */

import type { Address } from "../io/address.ts";
import type { FromReceiver, ToReceiver } from "./udp_receiver_worker.ts";
import { udpReceiverWorker } from "./udp_receiver_worker.ts";

/** What {@linkcode receiveUdp} calls on the main thread. */
export interface UdpReceiverOptions {
  /** One received datagram (the bytes stay valid: each batch is its own buffer). */
  onDatagram(data: Uint8Array): void;
  /** Datagrams the Worker received and dropped because the main thread had not caught up. */
  onDropped(count: number): void;
  /** The Worker failed after it started listening (the message says why). */
  onError(message: string): void;
  /** Bytes handed over and not yet processed beyond which datagrams are dropped. */
  maxBytes: number;
  /** Datagrams handed over and not yet processed beyond which datagrams are dropped. */
  maxDatagrams: number;
}

/** A socket receiving in a Worker. */
export interface UdpReceiver {
  /** The bound address (port 0 resolved). */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** Stops receiving; resolves once every datagram received so far was delivered. */
  close(): Promise<void>;
}

// The Worker's source: a data: URL needs no read permission (a module file would need
// --allow-read for its path); the Worker inherits the process's net permission.
let workerUrl: string | undefined;

/** Longest wait for the Worker to deliver its last batch at close. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * Binds `bind` in a Worker that receives every datagram as soon as the kernel has it, so a
 * main thread busy parsing (pickles, JSON) cannot let the socket's receive buffer overflow.
 * Batches arrive on the main thread as one transferred buffer each. Needs Deno's datagram API
 * (`--unstable-net`). Rejects with the bind error (a `Deno.errors` class where one fits).
 *
 * @example Receive one datagram
 * ```ts
 * import assert from "node:assert/strict";
 * import { receiveUdp } from "./udp_receiver.ts";
 * const got: string[] = [];
 * const receiver = await receiveUdp({ hostname: "127.0.0.1", port: 0 }, {
 *   onDatagram: (data) => got.push(new TextDecoder().decode(data)),
 *   onDropped() {}, onError() {}, maxBytes: 1 << 20, maxDatagrams: 1000,
 * });
 * const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * await client.send(new TextEncoder().encode("hi"), {
 *   transport: "udp", hostname: "127.0.0.1", port: receiver.port,
 * });
 * client.close();
 * while (got.length === 0) await new Promise((r) => setTimeout(r, 5));
 * await receiver.close();
 * assert.deepEqual(got, ["hi"]);
 * ```
 */
export function receiveUdp(bind: Address, options: UdpReceiverOptions): Promise<UdpReceiver> {
  workerUrl ??= `data:text/javascript,${encodeURIComponent(`(${udpReceiverWorker})();`)}`;
  const worker = new Worker(workerUrl, { type: "module", name: "udp receiver" });
  const send = (message: ToReceiver) => worker.postMessage(message);
  let started = false;
  let onClosed: (() => void) | undefined;
  return new Promise<UdpReceiver>((resolve, reject) => {
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      if (!started) reject(new Error(`UDP receiver failed: ${event.message}`));
      else options.onError(event.message);
      onClosed?.();
    };
    worker.onmessage = (event: MessageEvent<FromReceiver>) => {
      const message = event.data;
      if (message.type === "batch") {
        if (message.dropped > 0) options.onDropped(message.dropped);
        const bytes = new Uint8Array(message.data);
        let start = 0;
        for (const end of message.ends) {
          options.onDatagram(bytes.subarray(start, end));
          start = end;
        }
        send({ type: "ack", bytes: bytes.length, datagrams: message.ends.length });
      } else if (message.type === "listening") {
        started = true;
        resolve({
          hostname: message.hostname,
          port: message.port,
          close() {
            const closed = new Promise<void>((done) => onClosed = done);
            send({ type: "close" });
            const timer = setTimeout(() => onClosed?.(), CLOSE_TIMEOUT_MS);
            return closed.then(() => {
              clearTimeout(timer);
              worker.terminate();
            });
          },
        });
      } else if (message.type === "failed") {
        worker.terminate();
        const known = (Deno.errors as unknown as Record<string, ErrorConstructor | undefined>)[
          message.name
        ];
        reject(new (known ?? Error)(message.message));
      } else if (message.type === "closed") {
        if (message.dropped > 0) options.onDropped(message.dropped);
        onClosed?.();
      }
    };
    send({
      type: "start",
      hostname: bind.hostname,
      port: bind.port,
      maxBytes: options.maxBytes,
      maxDatagrams: options.maxDatagrams,
    });
  });
}

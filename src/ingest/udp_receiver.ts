/**
 * Receiving UDP off the main thread: a Worker drains the socket and hands batches over.
 *
 * @module
 */

import type { Address } from "../io/address.ts";
import { messageOf } from "../core/message_of.ts";
import { yieldToEventLoop } from "./yield_to_event_loop.ts";
import {
  type FromReceiver,
  RING_SLOTS,
  SLOT_CLOSED,
  SLOT_DROPPED,
  SLOT_READ,
  SLOT_SEQ,
  SLOT_TAKEN,
  SLOT_WRITE,
  type ToReceiver,
  udpReceiverWorker,
  WRAP,
} from "./udp_receiver_worker.ts";

/** What {@linkcode receiveUdp} calls on the main thread. */
export interface UdpReceiverOptions {
  /** One received datagram (the bytes stay valid: each is copied out of the shared ring). */
  onDatagram(data: Uint8Array): void;
  /** Datagrams the Worker received and dropped because the main thread had not caught up. */
  onDropped(count: number): void;
  /** Something went wrong after listening started (the message says what, and what it cost). */
  onError(message: string): void;
  /** The shared ring's size: datagrams waiting for the main thread beyond it are dropped. */
  maxBytes: number;
  /** Datagrams waiting for the main thread beyond which datagrams are dropped. */
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

/**
 * Datagrams handed to the main thread in one turn: at a handler's 1–20 µs each, 1–20 ms
 * before timers and I/O run again.
 */
const DRAIN_BUDGET = 1024;

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
  // Rounded down to the 4-byte alignment of the ring's records.
  const ring = new SharedArrayBuffer(Math.max(1 << 16, options.maxBytes & ~3));
  const state = new Int32Array(new SharedArrayBuffer(RING_SLOTS * 4));
  const data = new Uint8Array(ring);
  const view = new DataView(ring);
  let dropped = 0;
  let stopped = false;
  let onClosed: (() => void) | undefined;

  /**
   * Takes up to `budget` datagrams from the ring, copying each contiguous run out once; true
   * when more are waiting.
   */
  const drain = (budget: number): boolean => {
    let r = Atomics.load(state, SLOT_READ);
    const w = Atomics.load(state, SLOT_WRITE);
    let taken = 0;
    while (r !== w && taken < budget) {
      if (r + 4 > data.length || view.getUint32(r, true) === WRAP) {
        r = 0;
        continue;
      }
      // The run ends at the write offset, a wrap marker, the ring's end or the budget.
      const end = w > r ? w : data.length;
      let stop = r;
      let count = 0;
      while (stop + 4 <= end && taken + count < budget) {
        const n = view.getUint32(stop, true);
        if (n === WRAP) break;
        stop += 4 + ((n + 3) & ~3);
        count++;
      }
      const run = data.slice(r, stop);
      const runView = new DataView(run.buffer);
      for (let at = 0; at < run.length;) {
        const n = runView.getUint32(at, true);
        try {
          options.onDatagram(run.subarray(at + 4, at + 4 + n));
        } catch (error) {
          // A handler's bug must not stop the ring: that datagram is lost, said, and the rest go on.
          options.onError(`a datagram's handler threw, the datagram is lost: ${messageOf(error)}`);
        }
        at += 4 + ((n + 3) & ~3);
      }
      taken += count;
      // A marker or a tail too short for a length is handled at the top of the loop.
      r = stop >= data.length ? 0 : stop;
    }
    Atomics.store(state, SLOT_READ, r);
    Atomics.add(state, SLOT_TAKEN, taken);
    const total = Atomics.load(state, SLOT_DROPPED);
    if (total !== dropped) {
      options.onDropped((total - dropped) >>> 0);
      dropped = total;
    }
    return r !== w;
  };

  /** Drains whenever the Worker bumps the sequence slot, until it says it has closed. */
  const takeAll = async () => {
    try {
      for (;;) {
        if (stopped) break;
        const seq = Atomics.load(state, SLOT_SEQ);
        const closed = Atomics.load(state, SLOT_CLOSED) === 1;
        // Datagrams come in turns of at most DRAIN_BUDGET, each followed by a macrotask, so
        // timers and I/O run under a sustained flood (measured before: a 10 ms interval fired 4
        // times in 3 s while one drain took the whole ring).
        if (drain(DRAIN_BUDGET)) {
          await yieldToEventLoop();
          continue;
        }
        if (closed) break;
        const wait = Atomics.waitAsync(state, SLOT_SEQ, seq);
        if (wait.async) await wait.value;
        else await yieldToEventLoop();
      }
    } catch (error) {
      options.onError(`its receiver stopped taking datagrams: ${messageOf(error)}`);
    } finally {
      onClosed?.();
    }
  };

  return new Promise<UdpReceiver>((resolve, reject) => {
    let started = false;
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      if (!started) reject(new Error(`UDP receiver failed: ${event.message}`));
      else options.onError(`its receiver failed, no more datagrams are received: ${event.message}`);
      stopped = true;
      Atomics.add(state, SLOT_SEQ, 1);
      Atomics.notify(state, SLOT_SEQ);
    };
    worker.onmessage = (event: MessageEvent<FromReceiver>) => {
      const message = event.data;
      if (message.type === "listening") {
        started = true;
        const closed = new Promise<void>((done) => onClosed = done);
        takeAll();
        resolve({
          hostname: message.hostname,
          port: message.port,
          close() {
            send({ type: "close" });
            const timer = setTimeout(() => {
              stopped = true;
              Atomics.add(state, SLOT_SEQ, 1);
              Atomics.notify(state, SLOT_SEQ);
            }, CLOSE_TIMEOUT_MS);
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
      }
    };
    send({
      type: "start",
      hostname: bind.hostname,
      port: bind.port,
      ring,
      state: state.buffer as SharedArrayBuffer,
      maxDatagrams: options.maxDatagrams,
    });
  });
}

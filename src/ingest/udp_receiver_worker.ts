/**
 * The body of the Worker that drains a UDP socket for {@linkcode receiveUdp}. It is sent to
 * the Worker as source text (a `data:` URL), so it needs no read permission for a module file
 * and must not use anything outside its own body.
 *
 * @module
 */

/** What the main thread sends the Worker. */
export type ToReceiver =
  | {
    type: "start";
    hostname: string;
    port: number;
    /** Bytes handed over and not yet acknowledged beyond which datagrams are dropped. */
    maxBytes: number;
    /** Datagrams handed over and not yet acknowledged beyond which datagrams are dropped. */
    maxDatagrams: number;
  }
  | { type: "ack"; bytes: number; datagrams: number }
  | { type: "close" };

/** What the Worker sends the main thread. */
export type FromReceiver =
  | { type: "listening"; hostname: string; port: number }
  | { type: "failed"; name: string; message: string }
  /** Datagrams end to end in `data`; datagram i ends at `ends[i]`. */
  | { type: "batch"; data: ArrayBuffer; ends: Uint32Array; dropped: number }
  | { type: "closed"; dropped: number };

/**
 * Runs in the Worker: binds, then receives as fast as the socket delivers, straight into a
 * 1 MiB batch buffer, and posts what it holds (transferring the bytes) once the event loop
 * has nothing more to deliver or the buffer has no room for another 64 KiB datagram. While
 * the main thread has not acknowledged `maxBytes` or `maxDatagrams` of what it was handed,
 * new datagrams are received and dropped (counted in the next batch), so a stalled pipeline
 * costs bounded memory and the kernel's buffer never overflows on its account.
 *
 * @example The body is self-contained source text
 * ```ts
 * import assert from "node:assert/strict";
 * import { udpReceiverWorker } from "./udp_receiver_worker.ts";
 * assert.match(String(udpReceiverWorker), /listenDatagram/);
 * ```
 */
export function udpReceiverWorker(): void {
  interface Scope {
    onmessage: ((event: MessageEvent<ToReceiver>) => void) | null;
    postMessage(message: FromReceiver, transfer?: Transferable[]): void;
  }
  const scope = globalThis as unknown as Scope;
  // 1 MiB holds thousands of typical log datagrams; 64 KiB is the largest UDP payload.
  const CAPACITY = 1 << 20;
  const MAX_DATAGRAM = 65_536;
  let conn: Deno.DatagramConn | undefined;
  let closing = false;
  let buffer = new Uint8Array(CAPACITY);
  let used = 0;
  let ends: number[] = [];
  let dropped = 0;
  let outstandingBytes = 0;
  let outstandingDatagrams = 0;
  let limits = { maxBytes: 0, maxDatagrams: 0 };
  // A message to ourselves runs after the receives that completed in this turn of the event
  // loop; measured: a setTimeout(0) per batch lost up to 280 of 2,000 bursty datagrams, this none.
  const tick = new MessageChannel();
  let flushArmed = false;
  tick.port1.onmessage = () => flush();

  const flush = () => {
    flushArmed = false;
    if (ends.length === 0 && dropped === 0) return;
    const data = buffer.slice(0, used).buffer;
    const offsets = Uint32Array.from(ends);
    outstandingBytes += used;
    outstandingDatagrams += ends.length;
    scope.postMessage({ type: "batch", data, ends: offsets, dropped }, [data, offsets.buffer]);
    used = 0;
    ends = [];
    dropped = 0;
  };

  const receive = async (socket: Deno.DatagramConn) => {
    for (;;) {
      if (CAPACITY - used < MAX_DATAGRAM) flush();
      let n: number;
      const at = used;
      try {
        [{ length: n }] = await socket.receive(buffer.subarray(at));
      } catch {
        if (closing) break;
        // A transient error (an ICMP error surfacing on the socket): keep receiving, without
        // spinning if it repeats.
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      const held = outstandingDatagrams + ends.length;
      if (held >= limits.maxDatagrams || outstandingBytes + used + n > limits.maxBytes) {
        dropped++;
      } else {
        // A flush while the receive waited handed over what was before `at`: move it down.
        if (used !== at) buffer.copyWithin(used, at, at + n);
        used += n;
        ends.push(used);
      }
      // Hand over once the datagrams already waiting in the socket have been taken.
      if (!flushArmed) {
        flushArmed = true;
        tick.port2.postMessage(0);
      }
    }
    flush();
    scope.postMessage({ type: "closed", dropped });
    tick.port1.close();
    buffer = new Uint8Array(0);
  };

  scope.onmessage = (event) => {
    const message = event.data;
    if (message.type === "start") {
      limits = { maxBytes: message.maxBytes, maxDatagrams: message.maxDatagrams };
      try {
        conn = Deno.listenDatagram({
          transport: "udp",
          hostname: message.hostname,
          port: message.port,
        });
      } catch (error) {
        const { name, message: text } = error instanceof Error
          ? error
          : { name: "Error", message: String(error) };
        scope.postMessage({ type: "failed", name, message: text });
        return;
      }
      const addr = conn.addr as Deno.NetAddr;
      scope.postMessage({ type: "listening", hostname: addr.hostname, port: addr.port });
      receive(conn);
    } else if (message.type === "ack") {
      outstandingBytes -= message.bytes;
      outstandingDatagrams -= message.datagrams;
    } else if (message.type === "close") {
      closing = true;
      if (conn) conn.close();
      else scope.postMessage({ type: "closed", dropped: 0 });
    }
  };
}

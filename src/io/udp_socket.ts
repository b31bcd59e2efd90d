/**
 * A UDP socket for the network plugins: Deno's own datagram API when the runtime has it
 * (`--unstable-net`, or `"unstable": ["net"]` in deno.json), else `node:dgram`.
 *
 * @module
 */

import dgram from "node:dgram";
import type { Address } from "./address.ts";

/** An open UDP socket. */
export interface UdpSocket {
  /** The bound port. */
  readonly port: number;
  /** Which implementation is in use: `deno` (fast) or `node` (node:dgram, slower to receive). */
  readonly impl: "deno" | "node";
  /** Sends one datagram; resolves once the kernel took it. */
  send(data: Uint8Array, to: Address): Promise<void>;
  /** Closes the socket; a receive loop ends. */
  close(): Promise<void>;
}

/**
 * Opens a UDP socket bound to `bind`. With `onMessage`, every datagram received is passed to
 * it (the bytes are only valid during the call). Deno's datagram API receives an order of
 * magnitude faster than `node:dgram` in Deno, which loses most of a burst of datagrams; it is
 * used whenever the runtime exposes it.
 *
 * @example Send a datagram to ourselves
 * ```ts
 * import { openUdp } from "./udp_socket.ts";
 * import assert from "node:assert/strict";
 * const got: string[] = [];
 * const socket = await openUdp({ hostname: "127.0.0.1", port: 0 }, (data) => got.push(new TextDecoder().decode(data)));
 * await socket.send(new TextEncoder().encode("ping"), { hostname: "127.0.0.1", port: socket.port });
 * while (got.length === 0) await new Promise((r) => setTimeout(r, 5));
 * await socket.close();
 * assert.ok(got[0] === "ping");
 * ```
 */
export function openUdp(
  bind: Address,
  onMessage?: (data: Uint8Array) => void,
): Promise<UdpSocket> {
  return hasDenoDatagrams()
    ? Promise.resolve(openDeno(bind, onMessage))
    : openNode(bind, onMessage);
}

/** Whether Deno's datagram API is available (it needs the `net` unstable feature). */
export function hasDenoDatagrams(): boolean {
  return typeof (Deno as { listenDatagram?: unknown }).listenDatagram === "function";
}

function openDeno(bind: Address, onMessage?: (data: Uint8Array) => void): UdpSocket {
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: bind.hostname,
    port: bind.port,
  });
  let closed = false;
  let loop: Promise<void> = Promise.resolve();
  if (onMessage) {
    loop = (async () => {
      const buffer = new Uint8Array(65_536);
      while (!closed) {
        let data: Uint8Array;
        try {
          [data] = await conn.receive(buffer);
        } catch {
          if (closed) return;
          // A transient error (an ICMP error surfacing on the socket): keep receiving, without
          // spinning if it repeats.
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        onMessage(data);
      }
    })();
  }
  return {
    port: (conn.addr as Deno.NetAddr).port,
    impl: "deno",
    async send(data, to) {
      await conn.send(data, { transport: "udp", hostname: to.hostname, port: to.port });
    },
    async close() {
      if (closed) return;
      closed = true;
      conn.close();
      await loop;
    },
  };
}

async function openNode(
  bind: Address,
  onMessage?: (data: Uint8Array) => void,
): Promise<UdpSocket> {
  const socket = dgram.createSocket({ type: bind.hostname.includes(":") ? "udp6" : "udp4" });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(bind.port, bind.hostname, () => {
      socket.off("error", reject);
      resolve();
    });
  }).catch((error) => {
    try {
      socket.close();
    } catch {
      // Never bound.
    }
    throw error;
  });
  socket.on("error", () => {});
  if (onMessage) socket.on("message", (data: Uint8Array) => onMessage(data));
  let closed = false;
  return {
    port: socket.address().port,
    impl: "node",
    send(data, to) {
      return new Promise((resolve, reject) =>
        socket.send(data, to.port, to.hostname, (error) => error ? reject(error) : resolve())
      );
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

/**
 * The kernel's count of datagrams it dropped for one UDP socket (Linux `/proc/net/udp{,6}`).
 *
 * @module
 */

/** The files `sluice permissions` must allow reading for {@linkcode readKernelDrops}. */
export const PROC_NET_UDP: readonly string[] = ["/proc/net/udp", "/proc/net/udp6"];

/**
 * The `drops` column of the `/proc/net/udp` (IPv4) or `/proc/net/udp6` (IPv6) row whose local
 * address is `hostname:port` — what the kernel discarded for that socket, mostly because its
 * receive buffer was full. `undefined` when no row matches (another OS, another network
 * namespace, a closed socket). Throws what reading the file throws (`NotCapable` without
 * `--allow-read` for it).
 *
 * @example A socket nobody overflowed
 * ```ts
 * import assert from "node:assert/strict";
 * import { readKernelDrops } from "./udp_kernel_drops.ts";
 * const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const drops = await readKernelDrops("127.0.0.1", (socket.addr as Deno.NetAddr).port);
 * socket.close();
 * assert.equal(drops, Deno.build.os === "linux" ? 0 : undefined);
 * ```
 */
export async function readKernelDrops(
  hostname: string,
  port: number,
): Promise<number | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  const v6 = hostname.includes(":");
  const local = `${v6 ? ipv6Hex(hostname) : ipv4Hex(hostname)}:${hex(port, 4)}`;
  const table = await Deno.readTextFile(PROC_NET_UDP[v6 ? 1 : 0]!);
  for (const line of table.split("\n")) {
    const columns = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (columns[1] === local && columns.length >= 13) return Number(columns[12]);
  }
  return undefined;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function hex(n: number, digits: number): string {
  return n.toString(16).toUpperCase().padStart(digits, "0");
}

/** The kernel prints each 32-bit word of an address as a host-order integer. */
function words(bytes: readonly number[]): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    if (LITTLE_ENDIAN) word.reverse();
    text += word.map((b) => hex(b, 2)).join("");
  }
  return text;
}

function ipv4Hex(hostname: string): string {
  return words(hostname.split(".").map(Number));
}

function ipv6Hex(hostname: string): string {
  const [head = "", tail] = hostname.replace(/^\[|\]$/g, "").split("::");
  const groups = (part: string) => part === "" ? [] : part.split(":");
  const expand = (parts: string[]) =>
    parts.flatMap((g) => g.includes(".") ? ipv4Groups(g) : [parseInt(g, 16)]);
  const front = expand(groups(head));
  const back = tail === undefined ? [] : expand(groups(tail));
  const all = [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  return words(all.flatMap((g: number) => [g >> 8, g & 0xff]));
}

function ipv4Groups(dotted: string): number[] {
  const [a = 0, b = 0, c = 0, d = 0] = dotted.split(".").map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

/**
 * A HyperLogLog distinct counter (Flajolet, Fusy, Gandouet, Meunier 2007) with 2^14
 * one-byte registers: 16 KiB whatever the number of distinct keys, a standard error of
 * 1.04 / sqrt(2^14) = 0.81%, and merged by taking each register's maximum.
 *
 * @module
 */

/** Register index bits: 2^14 registers, 16 KiB, 0.81% standard error. */
const P = 14;
const M = 1 << P;
// alpha_m for m >= 128 (the paper's constant).
const ALPHA = 0.7213 / (1 + 1.079 / M);

/**
 * Hashes a string to 64 bits as two 32-bit halves (`HASH[0]`, `HASH[1]`), cyrb53-style:
 * two multiplicative streams over the UTF-16 code units, cross-mixed by a murmur3
 * finalizer. Written into a shared pair so the hot path allocates nothing.
 */
const HASH = new Uint32Array(2);
function hash64(key: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  HASH[0] = h1;
  HASH[1] = h2;
}

/**
 * A HyperLogLog sketch of distinct strings.
 *
 * @example Count distinct keys within the sketch's error
 * ```ts
 * import assert from "node:assert/strict";
 * import { HyperLogLog } from "./hyperloglog.ts";
 * const sketch = new HyperLogLog();
 * for (let i = 0; i < 50_000; i++) sketch.add(`trace-${i % 20_000}`);
 * assert.ok(Math.abs(sketch.estimate() - 20_000) < 20_000 * 0.04);
 * ```
 */
export class HyperLogLog {
  /** The registers: the largest rank seen per bucket (0 = none). */
  readonly registers: Uint8Array;

  /** An empty sketch, or one over copied registers (from {@linkcode HyperLogLog.toBase64}). */
  constructor(registers?: Uint8Array) {
    if (registers !== undefined && registers.length !== M) {
      throw new RangeError(
        `A HyperLogLog needs ${M} registers, got ${registers.length}`,
      );
    }
    this.registers = registers ? registers.slice() : new Uint8Array(M);
  }

  /** The number of registers. */
  static readonly size: number = M;

  /** Adds a key. */
  add(key: string): void {
    hash64(key);
    const index = HASH[0]! >>> (32 - P);
    // Rank: position of the first 1 bit of the other 32 bits (33 when all are 0).
    const rank = Math.clz32(HASH[1]!) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /** Folds another sketch in (each register's maximum): the sketch of the union. */
  merge(other: HyperLogLog): void {
    const mine = this.registers;
    const theirs = other.registers;
    for (let i = 0; i < M; i++) if (theirs[i]! > mine[i]!) mine[i] = theirs[i]!;
  }

  /** The estimated number of distinct keys added (small-range corrected by linear counting). */
  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < M; i++) {
      const r = this.registers[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = ALPHA * M * M / sum;
    if (raw <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
    return Math.round(raw);
  }

  /** The registers as base64, for a serialized state. */
  toBase64(): string {
    let binary = "";
    for (let i = 0; i < M; i += 4096) {
      binary += String.fromCharCode(...this.registers.subarray(i, i + 4096));
    }
    return btoa(binary);
  }

  /** A sketch from {@linkcode HyperLogLog.toBase64}'s output. */
  static fromBase64(text: string): HyperLogLog {
    const binary = atob(text);
    const registers = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) registers[i] = binary.charCodeAt(i);
    return new HyperLogLog(registers);
  }
}

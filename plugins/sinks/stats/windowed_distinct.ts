/**
 * Distinct keys (trace ids) seen within a sliding window, exact while few, sketched when many.
 *
 * @module
 */

import { HyperLogLog } from "./hyperloglog.ts";

/** One time slot of a serialized {@linkcode WindowedDistinct}. */
export interface DistinctSlotState {
  /** The absolute slot number (`floor(epoch ms / slot ms)`). */
  slot: number;
  /** The exact keys, while the slot is exact. */
  ids?: string[];
  /** The HyperLogLog registers (base64), once the slot is sketched. */
  hll?: string;
}

interface Slot {
  id: number;
  ids: Set<string> | undefined;
  hll: HyperLogLog | undefined;
}

/** The count of a window: how many distinct keys, and whether that number is exact. */
export interface DistinctCount {
  /** Distinct keys within the window. */
  count: number;
  /** `false` when a slot was sketched: then `count` has HyperLogLog's 0.81% standard error. */
  exact: boolean;
}

/**
 * Distinct keys within the last `slots` time slots. Each slot keeps an exact set of its keys
 * while the sets of all slots hold at most `maxExact` keys together; a key that would pass
 * that budget turns its slot into a HyperLogLog sketch (16 KiB), so memory stays under
 * `maxExact` keys plus 16 KiB per slot. The count is the size of the union of the live
 * slots' sets — exact while every live slot is exact, otherwise the estimate of the union of
 * their sketches (exact keys hashed in), within HyperLogLog's 0.81% standard error.
 *
 * @example Keys leave the count when their slot leaves the window
 * ```ts
 * import assert from "node:assert/strict";
 * import { WindowedDistinct } from "./windowed_distinct.ts";
 * const traces = new WindowedDistinct(3, 1000);
 * traces.add(10, "a");
 * traces.add(11, "b");
 * traces.add(12, "a");
 * assert.deepEqual(traces.count(12), { count: 2, exact: true });
 * assert.deepEqual(traces.count(14), { count: 1, exact: true });
 * ```
 */
export class WindowedDistinct {
  readonly #slots: Slot[];
  readonly #maxExact: number;
  #exactKeys = 0;

  /** Keeps `slots` slots; at most `maxExact` exact keys over all of them. */
  constructor(slots: number, maxExact: number) {
    this.#slots = Array.from({ length: slots }, () => ({
      id: -Infinity,
      ids: undefined,
      hll: undefined,
    }));
    this.#maxExact = maxExact;
  }

  /** Adds `key` to slot `slotId` (the current slot; older slots are reused). */
  add(slotId: number, key: string): void {
    const slot = this.#slot(slotId);
    const ids = slot.ids;
    if (ids !== undefined) {
      if (ids.has(key)) return;
      if (this.#exactKeys < this.#maxExact) {
        ids.add(key);
        this.#exactKeys++;
        return;
      }
      this.#sketch(slot);
    }
    slot.hll!.add(key);
  }

  /** Distinct keys of the slots `current - slots + 1` to `current`. */
  count(current: number): DistinctCount {
    const live = this.#live(current);
    if (live.every((s) => s.hll === undefined)) {
      if (live.length === 1) return { count: live[0]!.ids!.size, exact: true };
      const union = new Set<string>();
      for (const slot of live) for (const id of slot.ids!) union.add(id);
      return { count: union.size, exact: true };
    }
    const union = new HyperLogLog();
    for (const slot of live) {
      if (slot.hll) union.merge(slot.hll);
      else for (const id of slot.ids!) union.add(id);
    }
    return { count: union.estimate(), exact: false };
  }

  /** The live slots as plain data (for merging elsewhere). */
  state(current: number): DistinctSlotState[] {
    return this.#live(current).map((s) =>
      s.hll ? { slot: s.id, hll: s.hll.toBase64() } : { slot: s.id, ids: [...s.ids!] }
    );
  }

  /**
   * Folds serialized slots in (another aggregator's, with the same slot length): a slot's
   * keys join the slot of the same number; slots outside the window at `current` are skipped.
   */
  merge(slots: readonly DistinctSlotState[], current: number): void {
    const oldest = current - this.#slots.length + 1;
    for (const state of slots) {
      if (state.slot < oldest || state.slot > current) continue;
      if (state.hll !== undefined) {
        const slot = this.#slot(state.slot);
        if (!slot.hll) this.#sketch(slot);
        slot.hll!.merge(HyperLogLog.fromBase64(state.hll));
      }
      for (const id of state.ids ?? []) this.add(state.slot, id);
    }
  }

  /** The slot for `slotId`, emptied first when its ring position held an older slot. */
  #slot(slotId: number): Slot {
    const n = this.#slots.length;
    const slot = this.#slots[((slotId % n) + n) % n]!;
    if (slot.id !== slotId) {
      if (slot.ids) this.#exactKeys -= slot.ids.size;
      slot.id = slotId;
      slot.ids = new Set();
      slot.hll = undefined;
    }
    return slot;
  }

  #sketch(slot: Slot): void {
    const hll = new HyperLogLog();
    for (const id of slot.ids ?? []) hll.add(id);
    this.#exactKeys -= slot.ids?.size ?? 0;
    slot.ids = undefined;
    slot.hll = hll;
  }

  #live(current: number): Slot[] {
    const oldest = current - this.#slots.length + 1;
    return this.#slots.filter((s) => s.id >= oldest && s.id <= current);
  }
}

/**
 * The most frequent messages within a sliding window: one Space-Saving summary per time slot.
 *
 * @module
 */

import { type MessageCount, TopMessages } from "./top_messages.ts";

/** One time slot of a serialized {@linkcode WindowedTopMessages}. */
export interface TopSlotState {
  /** The absolute slot number (`floor(epoch ms / slot ms)`). */
  slot: number;
  /** The slot summary's counters. */
  counts: MessageCount[];
  /** Whether every counter of that summary was taken (then absent messages may have been seen). */
  full: boolean;
}

interface Slot {
  id: number;
  top: TopMessages;
}

/**
 * The most frequent messages of the last `slots` time slots. Each slot has its own
 * Space-Saving summary of `capacity` counters (created when the slot gets its first message,
 * so memory is at most `slots` × `capacity` counters of at most 200 characters each); a slot
 * that leaves the window takes its counts with it. {@linkcode top} merges the live slots'
 * summaries as mergeable summaries merge (Agarwal et al. 2012): exact (`error` 0) while every
 * slot held no more distinct messages than counters and the window no more than `capacity`;
 * otherwise each count is at most its `error` above the truth.
 *
 * @example Counts leave with their slot
 * ```ts
 * import assert from "node:assert/strict";
 * import { WindowedTopMessages } from "./windowed_top_messages.ts";
 * const top = new WindowedTopMessages(3, 10);
 * top.add(10, "timeout");
 * top.add(11, "timeout");
 * top.add(12, "denied");
 * assert.deepEqual(top.top(1, 12), [{ message: "timeout", count: 2, error: 0 }]);
 * assert.deepEqual(top.top(2, 14), [{ message: "denied", count: 1, error: 0 }]);
 * ```
 */
export class WindowedTopMessages {
  readonly #slots: (Slot | undefined)[];
  readonly #capacity: number;

  /** Keeps `slots` slots of `capacity` counters each. */
  constructor(slots: number, capacity: number) {
    this.#slots = Array.from({ length: slots }, () => undefined);
    this.#capacity = capacity;
  }

  /** Counts `message` in slot `slotId` (the current slot; older slots are reused). */
  add(slotId: number, message: string, n = 1): void {
    this.#slot(slotId).top.add(message, n);
  }

  /** The `n` most frequent messages of the window ending at slot `current`, most first. */
  top(n: number, current: number): MessageCount[] {
    return this.#merged(current).top(n);
  }

  /** The live slots of the window ending at `current`, as plain data. */
  state(current: number): TopSlotState[] {
    const out: TopSlotState[] = [];
    for (const slot of this.#slots) {
      if (slot && this.#live(slot.id, current)) {
        out.push({ slot: slot.id, counts: slot.top.state(), full: slot.top.full });
      }
    }
    return out.sort((a, b) => a.slot - b.slot);
  }

  /** Folds another's slots in (those still live at `current`), slot by slot. */
  merge(slots: readonly TopSlotState[], current: number): void {
    for (const other of slots) {
      if (!this.#live(other.slot, current)) continue;
      this.#slot(other.slot).top.merge(other.counts, other.full);
    }
  }

  #live(id: number, current: number): boolean {
    return id <= current && id > current - this.#slots.length;
  }

  #slot(id: number): Slot {
    const index = ((id % this.#slots.length) + this.#slots.length) % this.#slots.length;
    let slot = this.#slots[index];
    if (slot === undefined || slot.id !== id) {
      slot = { id, top: new TopMessages(this.#capacity) };
      this.#slots[index] = slot;
    }
    return slot;
  }

  #merged(current: number): TopMessages {
    const merged = new TopMessages(this.#capacity);
    for (const slot of this.#slots) {
      if (slot && this.#live(slot.id, current)) merged.merge(slot.top.state(), slot.top.full);
    }
    return merged;
  }
}

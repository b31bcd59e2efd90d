/**
 * The most frequent messages in bounded memory: the Space-Saving summary.
 *
 * @module
 */

/** One counted message. */
export interface MessageCount {
  /** The message (cut to {@linkcode MESSAGE_KEY_LENGTH} characters). */
  message: string;
  /** How often it was seen: exact when `error` is 0, otherwise at most `error` too high. */
  count: number;
  /** The most `count` can exceed the true count by (0 while the summary never overflowed). */
  error: number;
}

/** Messages are counted by their first 200 characters, which bounds each entry's memory. */
export const MESSAGE_KEY_LENGTH = 200;

/**
 * Space-Saving (Metwally, Agrawal, El Abbadi 2005): `capacity` counters; a message not
 * counted yet takes over the smallest counter, inheriting its count as its error bound. While
 * at most `capacity` distinct messages were seen every count is exact; after that every
 * message seen more than total/capacity times is kept, and each count is over by at most its
 * `error`. Two summaries merge (Agarwal et al. 2012, "Mergeable summaries"): counts add, a
 * message missing from a full summary is charged that summary's smallest count as error.
 *
 * @example The frequent message wins
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopMessages } from "./top_messages.ts";
 * const top = new TopMessages(2);
 * for (const m of ["timeout", "timeout", "denied", "timeout", "reset"]) top.add(m);
 * assert.equal(top.top(1)[0]?.message, "timeout");
 * assert.equal(top.top(1)[0]?.count, 3);
 * ```
 */
export class TopMessages {
  readonly #counts = new Map<string, MessageCount>();
  readonly #capacity: number;

  /** A summary of `capacity` counters. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Counts one occurrence of `message`. */
  add(message: string, n = 1): void {
    const key = message.length > MESSAGE_KEY_LENGTH
      ? message.slice(0, MESSAGE_KEY_LENGTH)
      : message;
    const known = this.#counts.get(key);
    if (known) {
      known.count += n;
      return;
    }
    if (this.#counts.size < this.#capacity) {
      this.#counts.set(key, { message: key, count: n, error: 0 });
      return;
    }
    const min = this.#min()!;
    this.#counts.delete(min.message);
    this.#counts.set(key, { message: key, count: min.count + n, error: min.count });
  }

  /** The `n` highest counts, highest first. */
  top(n: number): MessageCount[] {
    return [...this.#counts.values()]
      .sort((a, b) => b.count - a.count || (a.message < b.message ? -1 : 1))
      .slice(0, n)
      .map((c) => ({ ...c }));
  }

  /** Every counter, as plain data. */
  state(): MessageCount[] {
    return this.top(this.#capacity);
  }

  /** Folds another summary's counters in. */
  merge(other: readonly MessageCount[], otherFull: boolean): void {
    const mineFull = this.#counts.size >= this.#capacity;
    const mineMin = mineFull ? this.#min()!.count : 0;
    const theirMin = otherFull && other.length > 0 ? Math.min(...other.map((c) => c.count)) : 0;
    const merged = new Map<string, MessageCount>();
    for (const c of this.#counts.values()) {
      merged.set(c.message, {
        message: c.message,
        count: c.count + theirMin,
        error: c.error + theirMin,
      });
    }
    for (const c of other) {
      const known = merged.get(c.message);
      if (known) {
        known.count += c.count - theirMin;
        known.error += c.error - theirMin;
      } else {
        merged.set(c.message, {
          message: c.message,
          count: c.count + mineMin,
          error: c.error + mineMin,
        });
      }
    }
    const kept = [...merged.values()].sort((a, b) => b.count - a.count).slice(0, this.#capacity);
    this.#counts.clear();
    for (const c of kept) this.#counts.set(c.message, c);
  }

  /** Whether every counter is taken (a message not counted yet would evict one). */
  get full(): boolean {
    return this.#counts.size >= this.#capacity;
  }

  #min(): MessageCount | undefined {
    let min: MessageCount | undefined;
    for (const c of this.#counts.values()) if (!min || c.count < min.count) min = c;
    return min;
  }
}

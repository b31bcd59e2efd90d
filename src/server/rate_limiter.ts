/**
 * A token bucket per client key, for the ingest routes.
 *
 * @module
 */

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second (the sustained request rate); 0 disables the limit. */
  requestsPerSecond: number;
  /** Bucket size: how many requests a client may make at once. */
  burst: number;
  /** The clock in epoch milliseconds; `Date.now` by default (tests pass their own). */
  now?: () => number;
  /** Most clients tracked; idle (full) buckets are forgotten first, then the least recent. */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets keyed by client (the remote address). `take(key)` spends one token and
 * returns 0, or returns how many seconds the client must wait for its next token.
 * Memory stays bounded: at most `maxClients` buckets are kept.
 *
 * @example Two requests of burst then a wait
 * ```ts
 * import { RateLimiter } from "./rate_limiter.ts";
 * import assert from "node:assert/strict";
 * let now = 0;
 * const limiter = new RateLimiter({ requestsPerSecond: 1, burst: 2, now: () => now });
 * assert.ok(limiter.take("10.0.0.1") === 0 && limiter.take("10.0.0.1") === 0);
 * assert.ok(limiter.take("10.0.0.1") === 1);
 * now += 1000;
 * assert.ok(limiter.take("10.0.0.1") === 0);
 * ```
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #maxClients: number;
  readonly #buckets = new Map<string, Bucket>();

  /** Creates the limiter. */
  constructor(options: RateLimiterOptions) {
    this.#rate = options.requestsPerSecond;
    this.#burst = Math.max(1, options.burst);
    this.#now = options.now ?? Date.now;
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** Whether the limiter limits anything (`requestsPerSecond > 0`). */
  get enabled(): boolean {
    return this.#rate > 0;
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * The seconds until `key` has a token, without spending one: 0 when it has one now (a
   * client never seen has a full bucket).
   */
  wait(key: string): number {
    if (this.#rate <= 0) return 0;
    const bucket = this.#buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(
      this.#burst,
      bucket.tokens + (this.#now() - bucket.at) / 1000 * this.#rate,
    );
    return tokens >= 1 ? 0 : (1 - tokens) / this.#rate;
  }

  /** Spends a token of `key`: 0 when allowed, else the seconds until a token is available. */
  take(key: string): number {
    if (this.#rate <= 0) return 0;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below: the map stays in least-recent order
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) / 1000 * this.#rate);
      bucket.at = now;
    } else {
      if (this.#buckets.size >= this.#maxClients) this.#evict(now);
      bucket = { tokens: this.#burst, at: now };
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.#rate;
  }

  #evict(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) / 1000 * this.#rate >= this.#burst) {
        this.#buckets.delete(key);
      }
    }
    while (this.#buckets.size >= this.#maxClients) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
  }
}

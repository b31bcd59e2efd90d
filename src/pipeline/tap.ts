/**
 * Tapping a running pipeline: copies of the records flowing out of sources and processors
 * (and into sinks) for `sluice tap`, the dashboard and `/live`, without slowing the pipeline.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { closest } from "../schema/closest.ts";
import type { Metrics, Series } from "./metrics.ts";
import type { Target } from "./target.ts";
import { TapSubscription } from "./tap_subscription.ts";
import type { TapFilter } from "./tap_subscription.ts";

export type { TapFilter, TappedRecord, TapSubscriptionHooks } from "./tap_subscription.ts";
export { TapSubscription } from "./tap_subscription.ts";

/** The kind of component a tapped record came from (a sink: records reaching it). */
export type TapKind = "source" | "processor" | "sink";

/** A node whose `targets` a tap joins: a source's context or a processor node. */
export interface TapHost {
  /** The node's targets; the tap replaces the array (never mutates it) while it is tapped. */
  targets: Target[];
}

/** Thrown by {@linkcode Tap.subscribe} for a filter naming no component there is. */
export class TapFilterError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "TapFilterError";
  }
}

/** The most subscribers at once: each costs a connection, a timer and up to `limit` records. */
export const MAX_TAP_SUBSCRIBERS = 32;

/** One tappable place: the outputs of a source or processor, or the input of a sink. */
class TapPoint implements Target {
  subscribers: TapSubscription[] = [];
  constructor(
    readonly id: string,
    readonly kind: TapKind,
    readonly hosts: readonly TapHost[],
    /** A sink's level: what it does not accept is not tapped at it either. */
    readonly level: number,
  ) {}
  push(record: LogRecord): void {
    if (record.level < this.level) return;
    const subscribers = this.subscribers;
    for (let i = 0; i < subscribers.length; i++) subscribers[i]!.offer(this.id, this.kind, record);
  }
}

/**
 * The pipeline's tap. Nothing of it is on a record's path while nobody subscribes: a
 * subscription joins a tap target to the `targets` of the nodes it watches (a new array, so a
 * push loop already running keeps the old one), and the last one to leave takes it out again.
 * Each subscriber has its own bounded buffer ({@linkcode TapSubscription}); what does not fit
 * is dropped from that subscriber only, counted in `sluice_tap_records_dropped_total`.
 *
 * @example Tap a processor's output
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "./metrics.ts";
 * import { Tap } from "./tap.ts";
 * import { createRecord } from "../core/record.ts";
 * const node = { targets: [] as { push(r: unknown): void }[] };
 * const tap = new Tap(new Metrics());
 * tap.addPoint("parse", "processor", [node]);
 * const subscription = tap.subscribe({ level: 30 }, 100);
 * for (const t of node.targets) t.push(createRecord({ message: "loud", level: 40 }));
 * for (const t of node.targets) t.push(createRecord({ message: "quiet", level: 20 }));
 * assert.deepEqual(subscription.take().records.map((t) => t.record.message), ["loud"]);
 * subscription.close();
 * assert.equal(node.targets.length, 0);
 * ```
 */
export class Tap {
  readonly #points = new Map<string, TapPoint>();
  readonly #subscriptions = new Set<TapSubscription>();
  readonly #dropped: Series;
  readonly #sent: Series;
  #closed = false;

  /** A tap counting into `metrics`. */
  constructor(metrics: Metrics) {
    this.#dropped = metrics.counter(
      "tap_records_dropped_total",
      "Tapped records a slow tap subscriber did not take in time (the pipeline is not slowed).",
    );
    this.#sent = metrics.counter("tap_records_total", "Records handed to tap subscribers.");
    metrics.gaugeFn(
      "tap_subscribers",
      "Open tap subscriptions (sluice tap, sluice top, the dashboard).",
      () => [[{}, this.#subscriptions.size]],
    );
  }

  /**
   * Makes a component tappable: the records its `hosts` push on (a source's or processor's
   * output, or for a sink the records its inputs push to it, at its `level` and above).
   */
  addPoint(id: string, kind: TapKind, hosts: readonly TapHost[], level = -Infinity): void {
    this.#points.set(id, new TapPoint(id, kind, hosts, level));
  }

  /** Every tappable component, in the order they were added. */
  get components(): { id: string; kind: TapKind }[] {
    return [...this.#points.values()].map(({ id, kind }) => ({ id, kind }));
  }

  /** Open subscriptions. */
  get subscribers(): number {
    return this.#subscriptions.size;
  }

  /**
   * Starts tapping. `filter.components` names components (`*` matches any run of
   * characters); without it every source's and processor's output is tapped. A `null`
   * filter taps no records: the subscription only holds a place (a stream of component
   * stats) that `close()` ends at shutdown. Throws a
   * {@linkcode TapFilterError} for a name that matches nothing (with a did-you-mean), and an
   * `Error` beyond {@linkcode MAX_TAP_SUBSCRIBERS} or after `close()`.
   */
  subscribe(filter: TapFilter | null, limit: number): TapSubscription {
    if (this.#closed) throw new Error("The pipeline is shutting down; nothing to tap");
    if (this.#subscriptions.size >= MAX_TAP_SUBSCRIBERS) {
      throw new Error(`Too many tap subscribers (at most ${MAX_TAP_SUBSCRIBERS})`);
    }
    const points = filter === null ? [] : this.#select(filter.components);
    const subscription = new TapSubscription(filter ?? {}, limit, {
      dropped: this.#dropped,
      sent: this.#sent,
      leave: () => this.#leave(subscription, points),
    });
    this.#subscriptions.add(subscription);
    for (const point of points) {
      point.subscribers = [...point.subscribers, subscription];
      if (point.subscribers.length === 1) {
        // First in line, so a record is tapped where it leaves before where it goes next.
        for (const host of point.hosts) host.targets = [point, ...host.targets];
      }
    }
    return subscription;
  }

  /** Ends every subscription (their streams end) and refuses new ones: shutdown has begun. */
  close(): void {
    this.#closed = true;
    for (const subscription of [...this.#subscriptions]) subscription.close();
  }

  #leave(subscription: TapSubscription, points: readonly TapPoint[]): void {
    if (!this.#subscriptions.delete(subscription)) return;
    for (const point of points) {
      point.subscribers = point.subscribers.filter((s) => s !== subscription);
      if (point.subscribers.length === 0) {
        for (const host of point.hosts) host.targets = host.targets.filter((t) => t !== point);
      }
    }
  }

  #select(names: readonly string[] | undefined): TapPoint[] {
    const all = [...this.#points.values()];
    if (names === undefined || names.length === 0) return all.filter((p) => p.kind !== "sink");
    const chosen = new Set<TapPoint>();
    for (const name of names) {
      const pattern = new RegExp(
        `^${name.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`,
      );
      const matched = all.filter((p) => pattern.test(p.id));
      if (matched.length === 0) {
        const ids = all.map((p) => p.id);
        const near = closest(name, ids);
        throw new TapFilterError(
          `No component "${name}" to tap${near ? `; did you mean "${near}"?` : ""} (components: ${
            ids.map((id) => `"${id}"`).join(", ") || "none"
          })`,
        );
      }
      for (const point of matched) chosen.add(point);
    }
    return [...chosen];
  }
}

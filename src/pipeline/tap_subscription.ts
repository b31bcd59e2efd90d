/**
 * One tap subscriber: its filter and its bounded buffer.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { recordGetter } from "../core/record_getter.ts";
import type { Series } from "./metrics.ts";

/** What a subscriber wants to see. Every given condition must hold. */
export interface TapFilter {
  /** Component ids (`*` is a wildcard); a sink's id taps the records reaching it. */
  components?: readonly string[];
  /** The lowest level. */
  level?: number;
  /** A logger name: records of that logger and its children (`app` matches `app.db`). */
  logger?: string;
  /** Fields that must equal these values (compared as strings; dotted keys reach in). */
  fields?: readonly (readonly [key: string, value: string])[];
}

/** A record as tapped, with where it was seen. */
export interface TappedRecord {
  /** The component it left (or, for a sink, reached). */
  component: string;
  /** That component's kind. */
  kind: "source" | "processor" | "sink";
  /** The record itself (not a copy: read it, never change it). */
  record: LogRecord;
}

/** What a subscription reports into and how it leaves its tap. */
export interface TapSubscriptionHooks {
  /** Counts records dropped because the buffer was full. */
  dropped: Series;
  /** Counts records taken by the subscriber. */
  sent: Series;
  /** Takes the subscription off the tap's points. */
  leave: () => void;
}

/**
 * A subscriber's view of the tap. The pipeline calls `offer()` inside its push loop, so it
 * does the least it can: the filter's checks and one array push. At `limit` buffered records
 * the newest are dropped and counted (here in `lost`, and in
 * `sluice_tap_records_dropped_total`) until the subscriber `take()`s them; the pipeline never
 * waits for a tap.
 */
export class TapSubscription {
  /** The most records buffered between two `take()` calls. */
  readonly limit: number;
  #buffer: TappedRecord[] = [];
  #lost = 0;
  #closed = false;
  readonly #level: number;
  readonly #logger: string | undefined;
  readonly #loggerPrefix: string;
  readonly #fields: readonly (readonly [(record: LogRecord) => unknown, string])[];
  readonly #hooks: TapSubscriptionHooks;
  readonly #onClose: (() => void)[] = [];

  /** A subscription with its filter; the tap creates it (see `Tap.subscribe`). */
  constructor(filter: TapFilter, limit: number, hooks: TapSubscriptionHooks) {
    this.limit = Math.max(1, Math.floor(limit));
    this.#level = filter.level ?? -Infinity;
    this.#logger = filter.logger;
    this.#loggerPrefix = `${filter.logger}.`;
    this.#fields = (filter.fields ?? []).map(([key, value]) => [recordGetter(key), value]);
    this.#hooks = hooks;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Buffered records not taken yet. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Keeps `record` if it passes the filter and there is room; never throws, never waits. */
  offer(component: string, kind: TappedRecord["kind"], record: LogRecord): void {
    if (record.level < this.#level) return;
    const logger = this.#logger;
    if (
      logger !== undefined && logger !== "" && record.logger !== logger &&
      !record.logger.startsWith(this.#loggerPrefix)
    ) return;
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i++) {
      const [get, want] = fields[i]!;
      const value = get(record);
      if (value === undefined || value === null || String(value) !== want) return;
    }
    if (this.#buffer.length >= this.limit) {
      this.#lost++;
      this.#hooks.dropped.value++;
      return;
    }
    this.#buffer.push({ component, kind, record });
  }

  /** The records buffered since the last call, and how many did not fit meanwhile. */
  take(): { records: TappedRecord[]; lost: number } {
    const records = this.#buffer;
    const lost = this.#lost;
    this.#buffer = [];
    this.#lost = 0;
    this.#hooks.sent.value += records.length;
    return { records, lost };
  }

  /** Calls `fn` once the subscription closes (at once if it has). */
  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#onClose.push(fn);
  }

  /** Leaves the tap and drops what is buffered. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = [];
    this.#hooks.leave();
    for (const fn of this.#onClose.splice(0)) fn();
  }
}

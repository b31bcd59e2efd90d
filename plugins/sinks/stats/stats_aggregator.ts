/**
 * The state behind the `stats` sink: what slide 14's aggregator answers, kept in bounded
 * memory and mergeable across aggregators.
 *
 * @module
 */

import { levelName } from "../../../src/core/levels.ts";
import type { LogRecord } from "../../../src/core/record.ts";
import type { Counter } from "../../../src/plugin/types.ts";
import { StatsMergeError } from "./stats_merge_error.ts";
import type { MessageCount } from "./top_messages.ts";
import { type DistinctSlotState, WindowedDistinct } from "./windowed_distinct.ts";
import { type TopSlotState, WindowedTopMessages } from "./windowed_top_messages.ts";

/**
 * The window is kept as 60 slots of window/60 each (5 s for 5m): what leaves the window
 * leaves it a slot at a time, and each service's rate costs 60 numbers.
 */
export const SLOTS = 60;

/** The bucket of services beyond `max_services`. */
export const OTHER_SERVICE = "_other";

/** The service of records without a service field. */
export const UNKNOWN_SERVICE = "unknown";

/** Service names longer than this are cut, which bounds each service's key. */
const SERVICE_NAME_LENGTH = 256;
/** Recent errors keep this much of their message (a 1 MiB message must not stay resident). */
const ERROR_MESSAGE_LENGTH = 1024;
/** Space-Saving counters per reported top error and window slot: 10 reported, 100 counted. */
const TOP_COUNTERS_PER_REPORTED = 10;

const LEVEL_NAMES = ["NOTSET", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"] as const;
// Level number -> index in LEVEL_NAMES, so that counting a record is two array loads.
const BUCKET = new Uint8Array(101);
for (let n = 0; n <= 100; n++) BUCKET[n] = LEVEL_NAMES.indexOf(levelName(n) as never);
const bucketOf = (level: number): number =>
  level >= 0 && level <= 100 ? BUCKET[level | 0]! : BUCKET[level < 0 ? 0 : 100]!;

/** The settings of a {@linkcode StatsAggregator} (the `stats` sink's options). */
export interface StatsSettings {
  /** The window of `active_traces`, `recent_errors` and rates, in ms. */
  window: number;
  /** The field that names a record's service. */
  serviceField: string;
  /** Services tracked by name; records of any further service count under `_other`. */
  maxServices: number;
  /** Recent errors kept. */
  recentErrors: number;
  /** Top error messages reported. */
  topErrors: number;
  /** Exact trace ids kept over the window before slots turn into sketches. */
  maxExactTraces: number;
}

/** What a {@linkcode StatsAggregator} needs from its surroundings. */
export interface StatsHooks {
  /** The clock in epoch ms (`Date.now` by default); read once per batch. */
  now?: () => number;
  /** The counter of one service and level (the sink's `sluice_log_records_total` series). */
  counter?: (service: string, level: string) => Counter;
  /** Called once, with the first service that did not fit in `max_services`. */
  onOverflow?: (service: string) => void;
}

/** One recent error, as `/stats` shows it. */
export interface RecentError {
  /** The record's time, ISO 8601. */
  time: string;
  /** Its level name. */
  level: string;
  /** Its message (the first 1024 characters). */
  message: string;
  /** Its service. */
  service: string;
  /** Its trace id, when it has one. */
  trace_id?: string;
}

/** The analysis of one `stats` sink: slide 14's keys, then rates and top errors. */
export interface StatsAnalysis {
  /** Distinct services tracked by name (`_other` not included). */
  total_services: number;
  /** Distinct trace ids seen within the window. */
  active_traces: number;
  /** `false` once the window held more than `max_exact_traces` ids (then ±0.81% standard error). */
  active_traces_exact: boolean;
  /** Records per service and level name since the start: `{service: {LEVEL: n}}`. */
  service_distribution: Record<string, Record<string, number>>;
  /** Errors (ERROR and above) that arrived within the window, newest first by their time. */
  recent_errors: RecentError[];
  /** Records per second per service, over the window (or the time since the start, if shorter). */
  rates: Record<string, number>;
  /** The most frequent error messages that arrived within the window, most frequent first. */
  top_errors: MessageCount[];
  /** Records counted since the start. */
  records_total: number;
  /** The window in seconds. */
  window_seconds: number;
}

/** A recent error as the state keeps it: with when it arrived, which decides the window. */
export interface RecentErrorState extends RecentError {
  /** Arrival time at the aggregator, epoch ms. */
  arrived: number;
}

/** An aggregator's whole state as plain JSON data, for {@linkcode StatsAggregator.merge}. */
export interface StatsState {
  /** The window in ms (only states of equal windows merge). */
  window_ms: number;
  /** When the aggregator started, epoch ms. */
  started_at: number;
  /** When the state was taken, epoch ms. */
  taken_at: number;
  /** Counts per service and level name, `_other` included. */
  services: Record<string, Record<string, number>>;
  /** Per service, `[slot, records]` of the window's live slots. */
  rates: Record<string, [number, number][]>;
  /** The trace ids of the window's live slots. */
  traces: DistinctSlotState[];
  /** Recent errors, newest first. */
  recent_errors: RecentErrorState[];
  /** The top-error summaries of the window's live slots. */
  top_errors: TopSlotState[];
}

interface ServiceEntry {
  name: string;
  levels: (Counter | undefined)[];
  rate: Float64Array;
}

class PlainCounter implements Counter {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}
const plainCounter = (): Counter => new PlainCounter();

function serviceName(value: unknown): string {
  let name: string;
  if (typeof value === "string") name = value;
  else if (typeof value === "number" || typeof value === "boolean") name = String(value);
  else return UNKNOWN_SERVICE;
  if (name === "") return UNKNOWN_SERVICE;
  return name.length > SERVICE_NAME_LENGTH ? name.slice(0, SERVICE_NAME_LENGTH) : name;
}

/**
 * Counts records per service and level, distinct trace ids within the window, recent errors,
 * per-service rates and the most frequent error messages, in memory bounded by its settings:
 * `max_services` entries of 7 counters and 60 rate slots each (services beyond go to `_other`),
 * at most `max_exact_traces` trace ids plus 16 KiB per sketched slot, `recent_errors` errors,
 * and 10 × `top_errors` message counters per slot that saw errors. The window is measured on the aggregator's clock
 * when records arrive (not by their own times, which a replayed file or a skewed host makes
 * old or future), in slots of window/60.
 *
 * Two aggregators' states merge: counts and rates add, trace-id slots union (exact sets stay
 * exact within the budget, sketches take register maxima), recent errors interleave newest
 * first, top-error summaries merge slot by slot as Space-Saving summaries do.
 *
 * @example Count two services and an error
 * ```ts
 * import assert from "node:assert/strict";
 * import { StatsAggregator } from "./stats_aggregator.ts";
 * const now = 1_700_000_000_000;
 * const stats = new StatsAggregator({
 *   window: 300_000, serviceField: "service", maxServices: 10,
 *   recentErrors: 10, topErrors: 5, maxExactTraces: 1000,
 * }, { now: () => now });
 * const record = (service: string, level: number, message: string) =>
 *   ({ time: now, level, logger: "", message, fields: { service } });
 * stats.add([record("api", 20, "ok"), record("api", 40, "timeout"), record("db", 30, "slow")]);
 * const analysis = stats.analysis();
 * assert.equal(analysis.total_services, 2);
 * assert.deepEqual(analysis.service_distribution.api, { INFO: 1, ERROR: 1 });
 * assert.equal(analysis.recent_errors[0]?.message, "timeout");
 * ```
 */
export class StatsAggregator {
  /** The settings it was made with. */
  readonly settings: Readonly<StatsSettings>;
  readonly #now: () => number;
  readonly #counter: (service: string, level: string) => Counter;
  readonly #onOverflow: ((service: string) => void) | undefined;
  readonly #slotMs: number;
  readonly #services = new Map<string, ServiceEntry>();
  readonly #traces: WindowedDistinct;
  readonly #top: WindowedTopMessages;
  // Recent errors: a ring in arrival order, `#errorHead` the next to overwrite.
  readonly #errors: RecentErrorState[] = [];
  #errorHead = 0;
  #slot = -Infinity;
  #startedAt: number;
  #total = 0;
  #overflowed = false;

  /** An empty aggregator. */
  constructor(settings: StatsSettings, hooks: StatsHooks = {}) {
    this.settings = { ...settings };
    this.#now = hooks.now ?? Date.now;
    this.#counter = hooks.counter ?? plainCounter;
    this.#onOverflow = hooks.onOverflow;
    this.#slotMs = settings.window / SLOTS;
    this.#traces = new WindowedDistinct(SLOTS, settings.maxExactTraces);
    this.#top = new WindowedTopMessages(
      SLOTS,
      Math.max(1, settings.topErrors) * TOP_COUNTERS_PER_REPORTED,
    );
    this.#startedAt = this.#now();
  }

  /** Counts a batch (one clock read for the whole batch). */
  add(records: readonly LogRecord[]): void {
    const now = this.#now();
    const slot = this.#advance(now);
    const pos = slot % SLOTS;
    const field = this.settings.serviceField;
    let lastName: string | undefined;
    let last: ServiceEntry | undefined;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const fields = record.fields;
      const name = serviceName(fields[field]);
      const entry = name === lastName ? last! : this.#entry(name);
      lastName = name;
      last = entry;
      const bucket = bucketOf(record.level);
      (entry.levels[bucket] ??= this.#counter(entry.name, LEVEL_NAMES[bucket]!)).inc();
      entry.rate[pos]!++;
      const trace = record.trace_id ??
        (typeof fields.trace_id === "string" ? fields.trace_id : undefined);
      if (trace !== undefined && trace !== "") this.#traces.add(slot, trace);
      if (record.level >= 40) this.#error(record, entry.name, trace, now, slot);
    }
    this.#total += records.length;
  }

  /** The analysis `/stats` answers. */
  analysis(): StatsAnalysis {
    const now = this.#now();
    const slot = this.#advance(now);
    const distribution: Record<string, Record<string, number>> = {};
    const rates: Record<string, number> = {};
    const seconds = Math.max(1, Math.min(this.settings.window, now - this.#startedAt) / 1000);
    let named = 0;
    for (const entry of this.#services.values()) {
      if (entry.name !== OTHER_SERVICE) named++;
      distribution[entry.name] = levelCounts(entry);
      let sum = 0;
      for (let i = 0; i < SLOTS; i++) sum += entry.rate[i]!;
      rates[entry.name] = Math.round(sum / seconds * 1000) / 1000;
    }
    const traces = this.#traces.count(slot);
    return {
      total_services: named,
      active_traces: traces.count,
      active_traces_exact: traces.exact,
      service_distribution: distribution,
      recent_errors: this.#recentErrors(now).map(({ arrived: _, ...error }) => error),
      rates,
      top_errors: this.#top.top(this.settings.topErrors, slot),
      records_total: this.#total,
      window_seconds: this.settings.window / 1000,
    };
  }

  /** The whole state as plain data (JSON-safe), to merge into another aggregator. */
  state(): StatsState {
    const now = this.#now();
    const slot = this.#advance(now);
    const services: StatsState["services"] = {};
    const rates: StatsState["rates"] = {};
    for (const entry of this.#services.values()) {
      services[entry.name] = levelCounts(entry);
      const live: [number, number][] = [];
      for (let s = slot - SLOTS + 1; s <= slot; s++) {
        const n = entry.rate[((s % SLOTS) + SLOTS) % SLOTS]!;
        if (n > 0) live.push([s, n]);
      }
      rates[entry.name] = live;
    }
    return {
      window_ms: this.settings.window,
      started_at: this.#startedAt,
      taken_at: now,
      services,
      rates,
      traces: this.#traces.state(slot),
      recent_errors: this.#recentErrors(now),
      top_errors: this.#top.state(slot),
    };
  }

  /**
   * Folds another aggregator's {@linkcode StatsState} in: counts and rates add (services
   * beyond `max_services` join `_other`), trace ids union per slot, recent errors interleave
   * newest first, top errors merge per slot. Throws {@linkcode StatsMergeError} when the windows differ
   * (their slots would not line up).
   */
  merge(state: StatsState): void {
    if (state.window_ms !== this.settings.window) {
      throw new StatsMergeError(
        `Cannot merge stats with a window of ${state.window_ms} ms into one of ${this.settings.window} ms`,
      );
    }
    const now = Math.max(this.#now(), state.taken_at);
    const slot = this.#advance(now);
    this.#startedAt = Math.min(this.#startedAt, state.started_at);
    for (const [service, levels] of Object.entries(state.services)) {
      const entry = this.#entry(serviceName(service));
      for (const [level, n] of Object.entries(levels)) {
        const bucket = LEVEL_NAMES.indexOf(level as never);
        if (bucket < 0 || !(n > 0)) continue;
        (entry.levels[bucket] ??= this.#counter(entry.name, level)).inc(n);
        this.#total += n;
      }
      for (const [s, n] of state.rates[service] ?? []) {
        if (s > slot - SLOTS && s <= slot) entry.rate[((s % SLOTS) + SLOTS) % SLOTS]! += n;
      }
    }
    this.#traces.merge(state.traces, slot);
    const errors = newestFirst([...this.#recentErrors(now), ...state.recent_errors])
      .slice(0, this.settings.recentErrors)
      .reverse();
    this.#errors.length = 0;
    this.#errors.push(...errors);
    this.#errorHead = this.#errors.length % this.settings.recentErrors;
    this.#top.merge(state.top_errors, slot);
  }

  /** Moves the window to `now`'s slot (never backwards), clearing the rate slots it passes. */
  #advance(now: number): number {
    const slot = Math.max(this.#slot, Math.floor(now / this.#slotMs));
    if (slot === this.#slot) return slot;
    const from = Math.max(this.#slot + 1, slot - SLOTS + 1);
    for (const entry of this.#services.values()) {
      for (let s = from; s <= slot; s++) entry.rate[s % SLOTS] = 0;
    }
    this.#slot = slot;
    return slot;
  }

  #entry(name: string): ServiceEntry {
    let entry = this.#services.get(name);
    if (entry) return entry;
    // _other is created on top of max_services, so that max_services named ones fit.
    if (
      this.#services.size - (this.#services.has(OTHER_SERVICE) ? 1 : 0) >= this.settings.maxServices
    ) {
      if (!this.#overflowed) {
        this.#overflowed = true;
        this.#onOverflow?.(name);
      }
      name = OTHER_SERVICE;
      entry = this.#services.get(name);
      if (entry) return entry;
    }
    entry = { name, levels: [], rate: new Float64Array(SLOTS) };
    this.#services.set(name, entry);
    return entry;
  }

  #error(
    record: LogRecord,
    service: string,
    trace: string | undefined,
    now: number,
    slot: number,
  ): void {
    this.#top.add(slot, record.message);
    const capacity = this.settings.recentErrors;
    const message = record.message.length > ERROR_MESSAGE_LENGTH
      ? record.message.slice(0, ERROR_MESSAGE_LENGTH)
      : record.message;
    const time = new Date(record.time);
    const error: RecentErrorState = {
      // A record with an impossible time still shows, at its arrival.
      time: (Number.isNaN(time.getTime()) ? new Date(now) : time).toISOString(),
      level: levelName(record.level),
      message,
      service,
      arrived: now,
    };
    if (trace !== undefined) error.trace_id = trace;
    this.#errors[this.#errorHead] = error;
    this.#errorHead = (this.#errorHead + 1) % capacity;
  }

  /** Errors that arrived within the window, newest first. */
  #recentErrors(now: number): RecentErrorState[] {
    const since = now - this.settings.window;
    const head = this.#errorHead;
    // The ring from oldest to newest arrival, so that the stable sort keeps later arrivals first.
    const ring = this.#errors.length < this.settings.recentErrors
      ? this.#errors
      : [...this.#errors.slice(head), ...this.#errors.slice(0, head)];
    return newestFirst(ring.filter((e) => e.arrived > since).reverse());
  }
}

/** Sorts by record time, newest first; equal times keep their order (stable sort). */
function newestFirst(errors: RecentErrorState[]): RecentErrorState[] {
  return errors
    .map((e) => [Date.parse(e.time), e] as const)
    .sort((a, b) => b[0] - a[0])
    .map(([, e]) => e);
}

function levelCounts(entry: ServiceEntry): Record<string, number> {
  const out: Record<string, number> = {};
  for (let b = 0; b < LEVEL_NAMES.length; b++) {
    const n = entry.levels[b]?.value ?? 0;
    if (n > 0) out[LEVEL_NAMES[b]!] = n;
  }
  return out;
}

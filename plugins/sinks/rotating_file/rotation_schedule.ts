/**
 * When a time-rotating file rolls over and what its rotated file is called: a port of
 * Python's `TimedRotatingFileHandler` (3.11) arithmetic, so that both choose the same
 * instants and the same names.
 *
 * @module
 */

/** Broken-down time, as Python's `time.struct_time` gives it. */
interface TimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Monday is 0, as in Python. */
  weekday: number;
  isDst: boolean;
}

/** Options of a {@linkcode RotationSchedule}. */
export interface RotationScheduleOptions {
  /** `S`, `M`, `H`, `D`, `MIDNIGHT` or `W0`…`W6` (Monday is 0); any case. */
  when: string;
  /** How many units between rollovers (Python's `interval`); default 1. */
  interval?: number;
  /** Use UTC instead of local time. */
  utc?: boolean;
  /** Time of day for `MIDNIGHT` and `W*` rollovers, as `HH:MM` or `HH:MM:SS`. */
  atTime?: string;
  /**
   * An IANA zone used as "local time" instead of the process's (`TZ`); for tests and for
   * agents whose files follow another zone.
   */
  timeZone?: string;
}

const DAY = 86_400;

const UNITS: Record<string, { seconds: number; suffix: string; pattern: string }> = {
  S: {
    seconds: 1,
    suffix: "%Y-%m-%d_%H-%M-%S",
    pattern: "\\d{4}-\\d{2}-\\d{2}_\\d{2}-\\d{2}-\\d{2}",
  },
  M: { seconds: 60, suffix: "%Y-%m-%d_%H-%M", pattern: "\\d{4}-\\d{2}-\\d{2}_\\d{2}-\\d{2}" },
  H: { seconds: 3600, suffix: "%Y-%m-%d_%H", pattern: "\\d{4}-\\d{2}-\\d{2}_\\d{2}" },
  D: { seconds: DAY, suffix: "%Y-%m-%d", pattern: "\\d{4}-\\d{2}-\\d{2}" },
  MIDNIGHT: { seconds: DAY, suffix: "%Y-%m-%d", pattern: "\\d{4}-\\d{2}-\\d{2}" },
  W: { seconds: 7 * DAY, suffix: "%Y-%m-%d", pattern: "\\d{4}-\\d{2}-\\d{2}" },
};

/**
 * Parses a `when:` value; returns the normalised upper-case form or `undefined`.
 *
 * @example Accept Python's spellings
 * ```ts
 * import { parseWhen } from "./rotation_schedule.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseWhen("midnight") === "MIDNIGHT" && parseWhen("w6") === "W6");
 * assert.ok(parseWhen("W7") === undefined);
 * ```
 */
export function parseWhen(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const upper = value.trim().toUpperCase();
  return /^(S|M|H|D|MIDNIGHT|W[0-6])$/.test(upper) ? upper : undefined;
}

/**
 * Parses `HH:MM` or `HH:MM:SS` into seconds after midnight; `undefined` when invalid.
 *
 * @example Parse a time of day
 * ```ts
 * import { parseAtTime } from "./rotation_schedule.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseAtTime("02:30") === 9000 && parseAtTime("25:00") === undefined);
 * ```
 */
export function parseAtTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return undefined;
  const h = Number(m[1]), min = Number(m[2]), sec = Number(m[3] ?? 0);
  if (h > 23 || min > 59 || sec > 59) return undefined;
  return (h * 60 + min) * 60 + sec;
}

/**
 * Python's `TimedRotatingFileHandler` schedule. Times are whole seconds since the epoch,
 * as Python's `int(time.time())`.
 *
 * @example Midnight rollover in UTC, and the name the rotated file gets
 * ```ts
 * import { RotationSchedule } from "./rotation_schedule.ts";
 * import assert from "node:assert/strict";
 * const schedule = new RotationSchedule({ when: "midnight", utc: true });
 * const start = Date.UTC(2026, 10, 24, 15, 0, 0) / 1000;
 * const at = schedule.computeRollover(start);
 * assert.ok(at === Date.UTC(2026, 10, 25) / 1000);
 * assert.ok(schedule.suffix(at, at + 5) === "2026-11-24");
 * ```
 */
export class RotationSchedule {
  /** The normalised `when`. */
  readonly when: string;
  /** Seconds between rollovers (unit × interval). */
  readonly interval: number;
  /** Python's strftime suffix. */
  readonly suffixFormat: string;
  /** Matches a suffix this schedule produces (no anchors). */
  readonly suffixPattern: string;
  readonly #utc: boolean;
  readonly #atTime: number | undefined;
  readonly #dayOfWeek: number;
  readonly #parts: (t: number) => TimeParts;

  /** Validates the options; throws a `RangeError` naming the bad value. */
  constructor(options: RotationScheduleOptions) {
    const when = parseWhen(options.when);
    if (!when) throw new RangeError(`Invalid rollover interval "${options.when}"`);
    this.when = when;
    const unit = UNITS[when.startsWith("W") ? "W" : when]!;
    const interval = options.interval ?? 1;
    if (!Number.isInteger(interval) || interval < 1) {
      throw new RangeError(`Invalid rollover interval count ${interval}`);
    }
    this.interval = unit.seconds * interval;
    this.suffixFormat = unit.suffix;
    this.suffixPattern = unit.pattern;
    this.#utc = options.utc ?? false;
    this.#dayOfWeek = when.startsWith("W") ? Number(when[1]) : -1;
    if (options.atTime !== undefined) {
      const at = parseAtTime(options.atTime);
      if (at === undefined) throw new RangeError(`Invalid at_time "${options.atTime}"`);
      this.#atTime = at;
    }
    this.#parts = this.#utc
      ? utcParts
      : options.timeZone
      ? zoneParts(options.timeZone)
      : localParts;
  }

  /** Whether the schedule works in UTC. */
  get utc(): boolean {
    return this.#utc;
  }

  /** The first rollover after `currentTime` (Python's `computeRollover`). */
  computeRollover(currentTime: number): number {
    let result = currentTime + this.interval;
    if (this.when === "MIDNIGHT" || this.when.startsWith("W")) {
      const t = this.#parts(currentTime);
      let currentDay = t.weekday;
      const rotateTs = this.#atTime ?? DAY;
      let r = rotateTs - ((t.hour * 60 + t.minute) * 60 + t.second);
      if (r < 0) {
        r += DAY;
        currentDay = (currentDay + 1) % 7;
      }
      result = currentTime + r;
      if (this.when.startsWith("W")) {
        const day = currentDay;
        if (day !== this.#dayOfWeek) {
          const daysToWait = day < this.#dayOfWeek
            ? this.#dayOfWeek - day
            : 6 - day + this.#dayOfWeek + 1;
          let newRolloverAt = result + daysToWait * DAY;
          if (!this.#utc) {
            const dstNow = t.isDst;
            const dstAtRollover = this.#parts(newRolloverAt).isDst;
            if (dstNow !== dstAtRollover) newRolloverAt += dstNow ? 3600 : -3600;
          }
          result = newRolloverAt;
        }
      }
    }
    return result;
  }

  /**
   * The suffix of the file rotated at `currentTime` for the period that ended at
   * `rolloverAt` (Python's `doRollover` naming: the start of that period).
   */
  suffix(rolloverAt: number, currentTime: number): string {
    const t = rolloverAt - this.interval;
    let parts = this.#parts(t);
    if (!this.#utc) {
      const dstNow = this.#parts(currentTime).isDst;
      if (dstNow !== parts.isDst) parts = this.#parts(t + (dstNow ? 3600 : -3600));
    }
    return strftime(this.suffixFormat, parts);
  }

  /** The rollover after one that happened at `currentTime` (Python's `doRollover`). */
  next(currentTime: number): number {
    let next = this.computeRollover(currentTime);
    while (next <= currentTime) next += this.interval;
    if ((this.when === "MIDNIGHT" || this.when.startsWith("W")) && !this.#utc) {
      const dstNow = this.#parts(currentTime).isDst;
      const dstAtRollover = this.#parts(next).isDst;
      if (dstNow !== dstAtRollover) next += dstNow ? 3600 : -3600;
    }
    return next;
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function strftime(format: string, p: TimeParts): string {
  return format.replace(/%([YmdHMS])/g, (_, c: string) => {
    switch (c) {
      case "Y":
        return pad(p.year, 4);
      case "m":
        return pad(p.month);
      case "d":
        return pad(p.day);
      case "H":
        return pad(p.hour);
      case "M":
        return pad(p.minute);
      default:
        return pad(p.second);
    }
  });
}

function utcParts(t: number): TimeParts {
  const d = new Date(t * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: (d.getUTCDay() + 6) % 7,
    isDst: false,
  };
}

function localParts(t: number): TimeParts {
  const d = new Date(t * 1000);
  const year = d.getFullYear();
  const standard = Math.max(
    new Date(year, 0, 1).getTimezoneOffset(),
    new Date(year, 6, 1).getTimezoneOffset(),
  );
  return {
    year,
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    weekday: (d.getDay() + 6) % 7,
    isDst: d.getTimezoneOffset() < standard,
  };
}

function zoneParts(timeZone: string): (t: number) => TimeParts {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
    weekday: "short",
  });
  const WEEKDAYS: Record<string, number> = {
    Mon: 0,
    Tue: 1,
    Wed: 2,
    Thu: 3,
    Fri: 4,
    Sat: 5,
    Sun: 6,
  };
  const raw = (ms: number) => {
    const out: Record<string, string> = {};
    for (const part of format.formatToParts(ms)) out[part.type] = part.value;
    return out;
  };
  // Minutes east of UTC at `ms`.
  const offset = (ms: number) => {
    const p = raw(ms);
    const asUtc = Date.UTC(
      Number(p.year),
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
  };
  return (t) => {
    const p = raw(t * 1000);
    const year = Number(p.year);
    const standard = Math.min(offset(Date.UTC(year, 0, 1)), offset(Date.UTC(year, 6, 1)));
    return {
      year,
      month: Number(p.month),
      day: Number(p.day),
      hour: Number(p.hour),
      minute: Number(p.minute),
      second: Number(p.second),
      weekday: WEEKDAYS[p.weekday ?? ""] ?? 0,
      isDst: offset(t * 1000) > standard,
    };
  };
}

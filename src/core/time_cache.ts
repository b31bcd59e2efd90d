/**
 * A cache for ISO timestamps: records of a burst share their millisecond, and records of a
 * second share everything up to the milliseconds, so few calls format a Date.
 *
 * @module
 */

/** The largest time a Date holds (ms from the epoch, either way). */
const MAX_TIME = 8.64e15;

/**
 * Returns a function from epoch ms to an ISO 8601 UTC string (as `Date#toISOString`),
 * caching the last result and the text of the last second.
 *
 * @example Format a time
 * ```ts
 * import { isoTimeCache } from "./time_cache.ts";
 * import assert from "node:assert/strict";
 * const iso = isoTimeCache();
 * assert.ok(iso(0) === "1970-01-01T00:00:00.000Z");
 * ```
 */
export function isoTimeCache(): (time: number) => string {
  let lastTime = NaN;
  let lastText = "";
  let second = NaN;
  let prefix = "";
  return (time) => {
    if (time === lastTime) return lastText;
    if (Number.isInteger(time) && Math.abs(time) <= MAX_TIME) {
      const s = Math.floor(time / 1000);
      if (s !== second) {
        prefix = new Date(s * 1000).toISOString().slice(0, -4);
        second = s;
      }
      const ms = time - s * 1000;
      lastText = prefix + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms + "Z";
    } else lastText = new Date(time).toISOString();
    lastTime = time;
    return lastText;
  };
}

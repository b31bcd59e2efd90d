/**
 * A one-entry cache for ISO timestamps: records of a burst share their millisecond, so
 * most calls return the previous string instead of formatting a Date.
 *
 * @module
 */

/**
 * Returns a function from epoch ms to an ISO 8601 UTC string, caching the last result.
 *
 * @example Format a time
 * ```ts
 * import { isoTimeCache } from "./time_cache.ts";
 * const iso = isoTimeCache();
 * console.assert(iso(0) === "1970-01-01T00:00:00.000Z");
 * ```
 */
export function isoTimeCache(): (time: number) => string {
  let lastTime = NaN;
  let lastText = "";
  return (time) => {
    if (time !== lastTime) {
      lastTime = time;
      lastText = new Date(time).toISOString();
    }
    return lastText;
  };
}

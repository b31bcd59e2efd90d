/**
 * Time renderings shared by the text formatters.
 *
 * @module
 */

/** The time formats the text formatter accepts. */
export const TIME_FORMATS = ["iso", "asctime", "time", "epoch_ms", "epoch"] as const;

/**
 * Compiles a time format into a function from epoch ms to text, caching the last value.
 *
 * @example Python's asctime in UTC
 * ```ts
 * import { compileTimeFormat } from "./time_format.ts";
 * import assert from "node:assert/strict";
 * assert.ok(compileTimeFormat("asctime", true)(0) === "1970-01-01 00:00:00,000");
 * ```
 */
export function compileTimeFormat(format: string, utc: boolean): (time: number) => string {
  const render = renderer(format, utc);
  let lastTime = NaN;
  let lastText = "";
  return (time) => {
    if (time !== lastTime) {
      lastTime = time;
      lastText = render(time);
    }
    return lastText;
  };
}

function renderer(format: string, utc: boolean): (time: number) => string {
  switch (format) {
    case "epoch_ms":
      return (t) => String(t);
    case "epoch":
      return (t) => (t / 1000).toFixed(3);
  }
  return (t) => {
    const d = new Date(t);
    const parts = utc
      ? [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ]
      : [
        d.getFullYear(),
        d.getMonth() + 1,
        d.getDate(),
        d.getHours(),
        d.getMinutes(),
        d.getSeconds(),
      ];
    const [Y, M, D, h, m, s] = parts.map((n) => String(n).padStart(2, "0")) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const ms = String(d.getUTCMilliseconds()).padStart(3, "0");
    if (format === "time") return `${h}:${m}:${s}.${ms}`;
    if (format === "asctime") return `${Y}-${M}-${D} ${h}:${m}:${s},${ms}`;
    if (utc) return `${Y}-${M}-${D}T${h}:${m}:${s}.${ms}Z`;
    const offset = -d.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const oh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
    const om = String(Math.abs(offset) % 60).padStart(2, "0");
    return `${Y}-${M}-${D}T${h}:${m}:${s}.${ms}${sign}${oh}:${om}`;
  };
}

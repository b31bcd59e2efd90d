/**
 * Python's `time.strftime` (the C library's, as glibc prints in the C locale), compiled once
 * into a function from epoch ms to text: the `datefmt` of a `%(asctime)s` pattern.
 *
 * @module
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** The broken-down time a directive reads. */
interface Tm {
  Y: number;
  m: number;
  d: number;
  H: number;
  M: number;
  S: number;
  w: number;
  j: number;
  offset: number;
  zone: string;
  epoch: number;
}

type Directive = (tm: Tm) => string;

const p2 = (n: number) => (n < 10 ? "0" + n : String(n));
const p3 = (n: number) => (n < 10 ? "00" + n : n < 100 ? "0" + n : String(n));
const sp2 = (n: number) => (n < 10 ? " " + n : String(n));
const hour12 = (h: number) => (h % 12 === 0 ? 12 : h % 12);

/** ISO 8601 week-based year and week (`%G`, `%V`). */
function isoWeek(tm: Tm): [number, number] {
  const weekday = (tm.w + 6) % 7; // Monday 0
  const thursday = new Date(Date.UTC(tm.Y, tm.m - 1, tm.d - weekday + 3));
  const year = thursday.getUTCFullYear();
  const first = Date.UTC(year, 0, 1);
  return [year, 1 + Math.floor((thursday.getTime() - first) / 86_400_000 / 7)];
}

const DIRECTIVES: Record<string, Directive> = {
  Y: (t) => String(t.Y),
  C: (t) => p2(Math.floor(t.Y / 100)),
  y: (t) => p2(t.Y % 100),
  m: (t) => p2(t.m),
  d: (t) => p2(t.d),
  e: (t) => sp2(t.d),
  H: (t) => p2(t.H),
  k: (t) => sp2(t.H),
  I: (t) => p2(hour12(t.H)),
  l: (t) => sp2(hour12(t.H)),
  M: (t) => p2(t.M),
  S: (t) => p2(t.S),
  p: (t) => (t.H < 12 ? "AM" : "PM"),
  P: (t) => (t.H < 12 ? "am" : "pm"),
  a: (t) => DAYS[t.w]!.slice(0, 3),
  A: (t) => DAYS[t.w]!,
  b: (t) => MONTHS[t.m - 1]!.slice(0, 3),
  h: (t) => MONTHS[t.m - 1]!.slice(0, 3),
  B: (t) => MONTHS[t.m - 1]!,
  j: (t) => p3(t.j),
  w: (t) => String(t.w),
  u: (t) => String(t.w === 0 ? 7 : t.w),
  U: (t) => p2(Math.floor((t.j - 1 - t.w + 7) / 7)),
  W: (t) => p2(Math.floor((t.j - 1 - ((t.w + 6) % 7) + 7) / 7)),
  G: (t) => String(isoWeek(t)[0]),
  g: (t) => p2(isoWeek(t)[0] % 100),
  V: (t) => p2(isoWeek(t)[1]),
  z: (t) => {
    const a = Math.abs(t.offset);
    return (t.offset < 0 ? "-" : "+") + p2(Math.floor(a / 60)) + p2(a % 60);
  },
  Z: (t) => t.zone,
  s: (t) => String(Math.floor(t.epoch / 1000)),
  n: () => "\n",
  t: () => "\t",
  "%": () => "%",
};
const COMPOSED: Record<string, string> = {
  c: "%a %b %e %H:%M:%S %Y",
  D: "%m/%d/%y",
  x: "%m/%d/%y",
  F: "%Y-%m-%d",
  T: "%H:%M:%S",
  X: "%H:%M:%S",
  R: "%H:%M",
  r: "%I:%M:%S %p",
};

/** The directive letters {@linkcode compileStrftime} knows. */
export const STRFTIME_DIRECTIVES: readonly string[] = [
  ...Object.keys(DIRECTIVES),
  ...Object.keys(COMPOSED),
];

/** The first directive of `format` that {@linkcode compileStrftime} does not know, if any. */
export function unknownDirective(format: string): string | undefined {
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== "%") continue;
    let letter = format[++i];
    if (letter === "-") letter = format[++i];
    if (letter === undefined) return "%";
    if (!(letter in DIRECTIVES) && !(letter in COMPOSED)) return "%" + letter;
  }
  return undefined;
}

function expand(format: string): string {
  return format.replace(/%([%A-Za-z])/g, (m, c: string) => COMPOSED[c] ?? m);
}

const zoneNames = new Map<string, Intl.DateTimeFormat>();

function zoneName(time: number): string {
  let format = zoneNames.get("local");
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" });
    zoneNames.set("local", format);
  }
  return format.formatToParts(time).find((p) => p.type === "timeZoneName")?.value ?? "";
}

function brokenDown(time: number, utc: boolean, withZone: boolean): Tm {
  const d = new Date(time);
  const Y = utc ? d.getUTCFullYear() : d.getFullYear();
  const m = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const day = utc ? d.getUTCDate() : d.getDate();
  return {
    Y,
    m,
    d: day,
    H: utc ? d.getUTCHours() : d.getHours(),
    M: utc ? d.getUTCMinutes() : d.getMinutes(),
    S: utc ? d.getUTCSeconds() : d.getSeconds(),
    w: utc ? d.getUTCDay() : d.getDay(),
    j: 1 + Math.round((Date.UTC(Y, m - 1, day) - Date.UTC(Y, 0, 1)) / 86_400_000),
    offset: utc ? 0 : -d.getTimezoneOffset(),
    zone: utc ? "UTC" : withZone ? zoneName(time) : "",
    epoch: time,
  };
}

/**
 * Compiles a `strftime` format into a function from epoch ms to text, in local time (as
 * Python's `time.localtime` converter) or UTC (`time.gmtime`). The text of one second is
 * cached: strftime has no sub-second directive. `%-d` (glibc) drops the padding. `%Z` is the
 * zone's short name as `Intl` gives it (`EST`, `CET`; `GMT+5:30` where the C library says `IST`).
 *
 * @example Python's `datefmt="%Y-%m-%d %H:%M:%S"`
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileStrftime } from "./strftime.ts";
 * assert.equal(compileStrftime("%Y-%m-%d %H:%M:%S", true)(0), "1970-01-01 00:00:00");
 * assert.equal(compileStrftime("%a %d %b %Y, %I:%M %p", true)(0), "Thu 01 Jan 1970, 12:00 AM");
 * ```
 */
export function compileStrftime(format: string, utc: boolean): (time: number) => string {
  const expanded = expand(format);
  const parts: (string | Directive)[] = [];
  let text = "";
  for (let i = 0; i < expanded.length; i++) {
    const ch = expanded[i]!;
    if (ch !== "%") {
      text += ch;
      continue;
    }
    let letter = expanded[++i];
    const unpadded = letter === "-";
    if (unpadded) letter = expanded[++i];
    const directive = letter === undefined ? undefined : DIRECTIVES[letter];
    if (directive === undefined) {
      // glibc prints an unknown directive as written; `sluice check` reports it first.
      text += "%" + (unpadded ? "-" : "") + (letter ?? "");
      continue;
    }
    if (text) parts.push(text);
    text = "";
    parts.push(unpadded ? (tm) => directive(tm).replace(/^[0 ](?=.)/, "") : directive);
  }
  if (text) parts.push(text);
  const withZone = /%Z/.test(expanded);
  let second = NaN;
  let last = "";
  return (time) => {
    const s = Math.floor(time / 1000);
    if (s === second) return last;
    const tm = brokenDown(s * 1000, utc, withZone);
    let out = "";
    for (const part of parts) out += typeof part === "string" ? part : part(tm);
    second = s;
    last = out;
    return out;
  };
}

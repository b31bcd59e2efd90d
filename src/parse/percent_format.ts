/**
 * Python's `msg % args`, as `LogRecord.getMessage()` applies it, for records that arrive from
 * Python peers with their message and arguments apart.
 *
 * @module
 */

import { PyFloat, PyTuple } from "./python_literal.ts";

const SPEC = /%(?:\(([^)]*)\))?([-#0 +]*)(\*|\d+)?(?:\.(\*|\d*))?[hlL]?([diouxXeEfFgGcrsa%])?/g;

/**
 * Formats `msg % args` with Python's rules: a tuple (or array) fills `%s`, `%d`, `%5.2f`, `%r`
 * … in order; a mapping fills `%(name)s`. Returns `undefined` where Python would raise
 * (too few or too many arguments, a number format given text, an unknown conversion), so
 * the caller can keep the raw message instead.
 *
 * @example Format a logging call's message
 * ```ts
 * import { percentFormat } from "./percent_format.ts";
 * import assert from "node:assert/strict";
 * assert.ok(percentFormat("user %s paid %.2f", ["ada", 3]) === "user ada paid 3.00");
 * assert.ok(percentFormat("%(user)s is %(age)d", { user: "ada", age: 36 }) === "ada is 36");
 * assert.ok(percentFormat("%s %s", ["one"]) === undefined);
 * ```
 */
export function percentFormat(msg: string, args: unknown): string | undefined {
  const positional = Array.isArray(args);
  const list: readonly unknown[] = positional ? args : [args];
  const mapping = !positional && typeof args === "object" && args !== null
    ? args as Record<string, unknown>
    : undefined;
  let next = 0;
  let failed = false;
  let usedMapping = false;
  const take = (): unknown => {
    if (next >= list.length) {
      failed = true;
      return undefined;
    }
    return list[next++];
  };
  const out = msg.replace(
    SPEC,
    (
      whole,
      key: string | undefined,
      flags: string,
      width?: string,
      precision?: string,
      type?: string,
    ) => {
      if (failed) return whole;
      if (type === undefined) {
        failed = true;
        return whole;
      }
      if (type === "%" && key === undefined) return "%";
      let value: unknown;
      const w = width === "*" ? take() : width;
      const p = precision === "*" ? take() : precision;
      if (key !== undefined) {
        if (!mapping || !Object.hasOwn(mapping, key)) {
          failed = true;
          return whole;
        }
        usedMapping = true;
        value = mapping[key];
      } else value = take();
      if (failed) return whole;
      const text = convert(
        type,
        value,
        flags,
        p === undefined || p === "" ? (p === "" ? 0 : undefined) : Number(p),
      );
      if (text === undefined) {
        failed = true;
        return whole;
      }
      return pad(text, flags, w === undefined ? 0 : Number(w), type);
    },
  );
  if (failed) return undefined;
  // Python: "not all arguments converted during string formatting".
  if (!usedMapping && next < list.length && !(mapping && next === 0)) return undefined;
  return out;
}

/**
 * One `%` conversion with Python's rules: the value converted by `type` (`s`, `d`, `.2f` …)
 * with its flags, precision and width. Returns `undefined` where Python would raise.
 *
 * @example Pad a level name as `%(levelname)-8s` does
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatConversion } from "./percent_format.ts";
 * assert.equal(formatConversion("s", "INFO", "-", 8, undefined), "INFO    ");
 * assert.equal(formatConversion("03d", 7, "", 0, undefined), undefined);
 * assert.equal(formatConversion("d", 7.9, "0", 3, undefined), "007");
 * ```
 */
export function formatConversion(
  type: string,
  value: unknown,
  flags: string,
  width: number,
  precision: number | undefined,
): string | undefined {
  const text = convert(type, value, flags, precision);
  return text === undefined ? undefined : pad(text, flags, width, type);
}

function convert(
  type: string,
  value: unknown,
  flags: string,
  precision: number | undefined,
): string | undefined {
  switch (type) {
    case "s":
      return precision === undefined ? pyStr(value) : pyStr(value).slice(0, precision);
    case "r":
    case "a":
      return precision === undefined ? pyRepr(value) : pyRepr(value).slice(0, precision);
    case "%":
      return "%";
    case "c": {
      if (typeof value === "string" && [...value].length === 1) return value;
      const n = toNumber(value);
      return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 0x10ffff
        ? String.fromCodePoint(n)
        : undefined;
    }
  }
  if (typeof value === "bigint" && "diuxXo".includes(type)) {
    const base = type === "x" || type === "X" ? 16 : type === "o" ? 8 : 10;
    const text = (value < 0n ? -value : value).toString(base);
    return sign(value < 0n, flags) + prefix(type, flags) +
      (type === "X" ? text.toUpperCase() : text);
  }
  const n = toNumber(value);
  if (n === undefined) return undefined;
  if (!Number.isFinite(n)) {
    const text = Number.isNaN(n) ? "nan" : "inf";
    return sign(n < 0, flags) + ("EFG".includes(type) ? text.toUpperCase() : text);
  }
  const negative = n < 0 || Object.is(n, -0);
  const abs = Math.abs(n);
  switch (type) {
    case "d":
    case "i":
    case "u":
      return sign(n < 0 && Math.trunc(abs) !== 0, flags) + Math.trunc(abs).toFixed(0);
    case "x":
    case "X":
    case "o": {
      if (!Number.isInteger(n)) return undefined;
      const text = abs.toString(type === "o" ? 8 : 16);
      return sign(negative && abs !== 0, flags) + prefix(type, flags) +
        (type === "X" ? text.toUpperCase() : text);
    }
    case "f":
    case "F":
      return sign(negative, flags) + fixed(abs, Math.min(precision ?? 6, 100));
    case "e":
    case "E": {
      const text = exponential(abs, Math.min(precision ?? 6, 100));
      return sign(negative, flags) + (type === "E" ? text.toUpperCase() : text);
    }
    case "g":
    case "G": {
      const text = general(abs, precision ?? 6, flags.includes("#"));
      return sign(negative, flags) + (type === "G" ? text.toUpperCase() : text);
    }
  }
  return undefined;
}

/**
 * Python's `%.Nf`: `toFixed` rounds an exact tie up (12.25 to 12.3), Python to even (12.2).
 * The exact decimal expansion (toFixed(100) is exact) tells a tie from a near miss.
 */
function fixed(abs: number, precision: number): string {
  const rounded = abs.toFixed(precision);
  if (precision >= 99 || abs >= 1e21) return rounded;
  const exact = abs.toFixed(100);
  const point = exact.indexOf(".");
  const rest = exact.slice(point + 1 + precision);
  if (!/^50*$/.test(rest)) return rounded;
  const truncated = exact.slice(0, precision === 0 ? point : point + 1 + precision);
  const last = Number(truncated[truncated.length - 1]);
  return last % 2 === 0 ? truncated : rounded;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (value instanceof PyFloat) return value.value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

function sign(negative: boolean, flags: string): string {
  return negative ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
}

function prefix(type: string, flags: string): string {
  if (!flags.includes("#")) return "";
  return type === "x" ? "0x" : type === "X" ? "0X" : type === "o" ? "0o" : "";
}

/** Python's `%e`: at least two exponent digits. */
function exponential(abs: number, precision: number): string {
  return abs.toExponential(precision).replace(/e([-+])(\d)$/, "e$10$2");
}

/** Python's `%g`. */
function general(abs: number, precision: number, alternate: boolean): string {
  const p = precision === 0 ? 1 : precision;
  if (abs === 0) return alternate ? "0." + "0".repeat(p - 1) : "0";
  const exp = Number(abs.toExponential(p - 1).split("e")[1]);
  let text = exp >= -4 && exp < p ? abs.toFixed(Math.max(0, p - 1 - exp)) : exponential(abs, p - 1);
  if (!alternate) {
    text = text.replace(/\.?0+(?=e|$)/, (m) => (m.startsWith(".") || text.includes(".") ? "" : m));
  }
  return text;
}

function pad(text: string, flags: string, width: number, type: string): string {
  if (!(width > text.length)) return text;
  if (flags.includes("-")) return text.padEnd(width);
  if (flags.includes("0") && !"srac".includes(type)) {
    const signLength = /^[-+ ]/.test(text) ? 1 : 0;
    const lead = text.slice(0, signLength + (/^[-+ ]?0[xXo]/.test(text) ? 2 : 0));
    return lead + text.slice(lead.length).padStart(width - lead.length, "0");
  }
  return text.padStart(width);
}

/**
 * Python's `str()` of plain data.
 *
 * @example Render a value as Python prints it
 * ```ts
 * import { pyStr } from "./percent_format.ts";
 * import assert from "node:assert/strict";
 * assert.ok(pyStr(null) === "None" && pyStr(["a", 1]) === "['a', 1]");
 * ```
 */
export function pyStr(value: unknown): string {
  return typeof value === "string" ? value : pyRepr(value);
}

function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return reprString(value);
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
    return String(value).replace(/e([-+])(\d)$/, "e$10$2");
  }
  if (typeof value === "bigint") return value.toString();
  if (value instanceof PyFloat) return value.text;
  if (value instanceof PyTuple) {
    const items = value.map(pyRepr);
    return "(" + items.join(", ") + (items.length === 1 ? ",)" : ")");
  }
  if (Array.isArray(value)) return "[" + value.map(pyRepr).join(", ") + "]";
  if (typeof value === "object") {
    return "{" +
      Object.entries(value as Record<string, unknown>).map(([k, v]) =>
        reprString(k) + ": " + pyRepr(v)
      )
        .join(", ") +
      "}";
  }
  return String(value);
}

function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + quote;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + quote;
}

/**
 * A safe reader of Python's `repr()` of plain data: what `logging.handlers.HTTPHandler` sends
 * for a record's `args`. It builds values and never evaluates anything.
 *
 * @module
 */

/**
 * A Python float, kept with its `repr()` text so that `%s` renders `1.0` as Python does,
 * not `1`.
 */
export class PyFloat {
  /** Creates the float from its value and the text Python printed. */
  constructor(readonly value: number, readonly text: string) {}
  /** The text Python printed (`str()` and `repr()` agree for floats). */
  toString(): string {
    return this.text;
  }
  /** The number, for JSON. */
  toJSON(): number | string {
    return Number.isFinite(this.value) ? this.value : this.text;
  }
}

/** A Python tuple (`repr` `(1, 'a')`), kept apart from lists so `%` can tell them apart. */
export class PyTuple extends Array<unknown> {}

/**
 * Parses the `repr()` of plain Python data: `str` and `bytes` literals (every escape),
 * `int` (a `bigint` beyond 2^53), `float` (as {@linkcode PyFloat}, incl. `inf` and `nan`),
 * `True`, `False`, `None`, and tuples, lists, dicts and sets of them. Returns `undefined`
 * for anything else, such as `<object at 0x7f…>` or `datetime.date(2024, 1, 1)`.
 *
 * @example Parse a record's args
 * ```ts
 * import { parsePythonLiteral } from "./python_literal.ts";
 * import assert from "node:assert/strict";
 * const args = parsePythonLiteral("('ada', 3, None, {'k': [1.5]})") as unknown[];
 * assert.ok(args[0] === "ada" && args[1] === 3 && args[2] === null);
 * assert.ok(parsePythonLiteral("<object at 0x1>") === undefined);
 * ```
 */
export function parsePythonLiteral(text: string): unknown {
  const parser = new Parser(text);
  try {
    const value = parser.value();
    parser.space();
    return parser.done() ? value : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

const WORD = /(?:None|True|False|-?inf|nan)(?![\w.])/y;
const NUMBER = /-?(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][-+]?\d+)?j?/y;
const PREFIX = /[bBrRuU]{1,2}(?=['"])/y;
const SPACE = /\s/;

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

class Parser {
  #i = 0;
  #depth = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.#i === this.text.length;
  }

  space(): void {
    const t = this.text;
    while (this.#i < t.length && SPACE.test(t[this.#i]!)) this.#i++;
  }

  value(): unknown {
    this.space();
    const t = this.text;
    const c = t[this.#i];
    if (c === undefined) throw new SyntaxError("Unexpected end");
    if (c === "(") return this.sequence(")", new PyTuple());
    if (c === "[") return this.sequence("]", []);
    if (c === "{") return this.braces();
    if (c === "'" || c === '"') return this.string(false);
    PREFIX.lastIndex = this.#i;
    const prefix = PREFIX.exec(t);
    if (prefix) {
      this.#i += prefix[0].length;
      const lower = prefix[0].toLowerCase();
      return this.string(lower.includes("r"), lower.includes("b"));
    }
    WORD.lastIndex = this.#i;
    const word = WORD.exec(t);
    if (word) {
      this.#i += word[0].length;
      switch (word[0]) {
        case "None":
          return null;
        case "True":
          return true;
        case "False":
          return false;
        default:
          return new PyFloat(
            word[0] === "nan" ? NaN : word[0] === "inf" ? Infinity : -Infinity,
            word[0],
          );
      }
    }
    NUMBER.lastIndex = this.#i;
    const number = NUMBER.exec(t);
    if (number && number[0] !== "" && number[0] !== "-" && /\d/.test(number[0])) {
      const raw = number[0];
      if (raw.endsWith("j")) throw new SyntaxError("Complex numbers are not plain data");
      this.#i += raw.length;
      const clean = raw.replace(/_/g, "");
      if (/[.eE]/.test(clean)) return new PyFloat(Number(clean), raw);
      const n = Number(clean);
      return Number.isSafeInteger(n) ? n : BigInt(clean);
    }
    throw new SyntaxError(`Unexpected ${JSON.stringify(c)}`);
  }

  sequence(close: string, out: unknown[]): unknown[] {
    this.#enter();
    this.#i++;
    for (;;) {
      this.space();
      if (this.text[this.#i] === close) break;
      out.push(this.value());
      this.space();
      const c = this.text[this.#i];
      if (c === ",") {
        this.#i++;
        continue;
      }
      if (c !== close) throw new SyntaxError(`Expected "," or "${close}"`);
    }
    this.#i++;
    this.#depth--;
    return out;
  }

  braces(): unknown {
    this.#enter();
    this.#i++;
    const dict: Record<string, unknown> = {};
    const set: unknown[] = [];
    let kind: "dict" | "set" | undefined;
    for (;;) {
      this.space();
      if (this.text[this.#i] === "}") break;
      const key = this.value();
      this.space();
      if (this.text[this.#i] === ":") {
        if (kind === "set") throw new SyntaxError("Mixed set and dict");
        kind = "dict";
        this.#i++;
        dict[keyText(key)] = this.value();
      } else {
        if (kind === "dict") throw new SyntaxError("Expected a colon");
        kind = "set";
        set.push(key);
      }
      this.space();
      const c = this.text[this.#i];
      if (c === ",") {
        this.#i++;
        continue;
      }
      if (c !== "}") throw new SyntaxError('Expected "," or "}"');
    }
    this.#i++;
    this.#depth--;
    return kind === "set" ? set : dict;
  }

  string(raw: boolean, bytes = false): string {
    const t = this.text;
    const quote = t[this.#i]!;
    const triple = t.startsWith(quote.repeat(3), this.#i);
    const end = triple ? quote.repeat(3) : quote;
    this.#i += end.length;
    let out = "";
    for (;;) {
      if (this.#i >= t.length) throw new SyntaxError("Unterminated string");
      if (t.startsWith(end, this.#i)) {
        this.#i += end.length;
        return out;
      }
      const c = t[this.#i]!;
      if (c !== "\\" || raw) {
        if (c === "\\" && raw && this.#i + 1 < t.length) {
          out += c + t[this.#i + 1];
          this.#i += 2;
          continue;
        }
        out += c;
        this.#i++;
        continue;
      }
      const e = t[this.#i + 1];
      if (e === undefined) throw new SyntaxError("Unterminated escape");
      this.#i += 2;
      if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
      else if (e === "\n") continue;
      else if (e === "x") out += this.hex(2);
      else if (e === "u" && !bytes) out += this.hex(4);
      else if (e === "U" && !bytes) out += this.hex(8);
      else if (e >= "0" && e <= "7") {
        let digits = e;
        while (digits.length < 3 && /[0-7]/.test(t[this.#i] ?? "")) digits += t[this.#i++];
        out += String.fromCodePoint(parseInt(digits, 8));
      } else if (e === "N" && !bytes) throw new SyntaxError("Named escapes are not supported");
      else out += "\\" + e;
    }
  }

  hex(n: number): string {
    const digits = this.text.slice(this.#i, this.#i + n);
    if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== n) throw new SyntaxError("Bad escape");
    this.#i += n;
    const code = parseInt(digits, 16);
    if (code > 0x10ffff) throw new SyntaxError("Bad escape");
    return String.fromCodePoint(code);
  }

  #enter(): void {
    if (++this.#depth > 64) throw new SyntaxError("Nested too deeply");
  }
}

function keyText(key: unknown): string {
  if (typeof key === "string") return key;
  if (key === null) return "None";
  if (key === true) return "True";
  if (key === false) return "False";
  return String(key);
}

/**
 * A pickle decoder for plain data only: it never imports, looks up or calls anything.
 *
 * @module
 */

import { ParseError } from "../../../src/parse/parse_error.ts";
import { setOwn } from "../../../src/core/set_own.ts";

/** A decoded pickle value. Tuples and sets become arrays; bytes become `Uint8Array`. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | { [key: string]: PickleValue };

/** Limits of {@linkcode decodePickle}. */
export interface PickleLimits {
  /** The most values the result may expand to, counting shared references each time (default 1,000,000). */
  maxNodes?: number;
  /** The deepest nesting of containers (default 64). */
  maxDepth?: number;
  /** The longest integer, in bytes or decimal digits (default 1,024). */
  maxIntBytes?: number;
}

/** Opcodes that import, call or build objects: each makes the pickle a rejection. */
const FORBIDDEN: Record<number, string> = {
  0x63: "GLOBAL",
  0x93: "STACK_GLOBAL",
  0x52: "REDUCE",
  0x62: "BUILD",
  0x69: "INST",
  0x6f: "OBJ",
  0x81: "NEWOBJ",
  0x92: "NEWOBJ_EX",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/**
 * Decodes a pickle (protocols 0 to 5) that holds only plain data: dicts, lists, tuples, sets,
 * str, bytes, int, float, None and bool, with memo and framing opcodes. Any opcode that would
 * import a name, call a callable, build an instance or fetch an out-of-band buffer (GLOBAL,
 * STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT1/2/4, PERSID, BINPERSID,
 * NEXT_BUFFER, READONLY_BUFFER) throws a {@linkcode ParseError} with reason `unsafe_pickle`
 * before anything is evaluated — there is nothing to evaluate: this decoder has no way to call
 * code. Malformed or truncated input throws `invalid_pickle`; input that would expand beyond
 * the limits (nested or shared containers, huge integers) throws `pickle_too_complex`.
 *
 * Dict keys become strings (non-string keys by their Python `repr`-like text); integers
 * beyond 2^53 become `bigint`.
 *
 * @example Decode what Python's pickle.dumps({"a": [1, 2.5, None, True]}, 2) writes
 * ```ts
 * import { decodePickle } from "./safe_pickle.ts";
 * import assert from "node:assert/strict";
 * const bytes = Uint8Array.from(atob("gAJ9cQBYAQAAAGFxAV1xAihLAUdABAAAAAAAAE6IZXMu"), (c) => c.charCodeAt(0));
 * const value = decodePickle(bytes) as { a: unknown[] };
 * assert.ok(JSON.stringify(value) === '{"a":[1,2.5,null,true]}');
 * ```
 *
 * @example Refuse a pickle that would call os.system
 * ```ts
 * import { decodePickle } from "./safe_pickle.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("cos\nsystem\n(S'true'\ntR.");
 * assert.throws(() => decodePickle(bytes), { reason: "unsafe_pickle" });
 * ```
 */
export function decodePickle(bytes: Uint8Array, limits: PickleLimits = {}): PickleValue {
  const maxIntBytes = limits.maxIntBytes ?? 1024;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;

  const need = (n: number): number => {
    if (n < 0 || pos + n > end) throw invalid("truncated pickle");
    const at = pos;
    pos += n;
    return at;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl === -1) throw invalid("truncated pickle");
    const text = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return text;
  };
  const pop = (): PickleValue => {
    if (stack.length <= (marks[marks.length - 1] ?? 0)) throw invalid("stack underflow");
    return stack.pop()!;
  };
  const top = (): PickleValue => {
    if (stack.length <= (marks[marks.length - 1] ?? 0)) throw invalid("stack underflow");
    return stack[stack.length - 1]!;
  };
  const popMark = (): PickleValue[] => {
    const at = marks.pop();
    if (at === undefined) throw invalid("no MARK on the stack");
    return stack.splice(at);
  };
  const size = (n: number): number => {
    if (n > end - pos) throw invalid("truncated pickle");
    return n;
  };
  const u64 = (): number => {
    const at = need(8);
    const high = view.getUint32(at + 4, true);
    if (high !== 0) throw invalid("truncated pickle");
    return view.getUint32(at, true);
  };
  const text = (n: number): string => {
    const at = need(size(n));
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      throw invalid("string is not valid UTF-8");
    }
  };
  const raw = (n: number): Uint8Array => {
    const at = need(size(n));
    return bytes.slice(at, at + n);
  };
  const memoIndex = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0) throw invalid("bad memo index");
    return n;
  };
  const get = (index: number): void => {
    const value = memo.get(index);
    if (value === undefined) throw invalid(`memo ${index} not defined`);
    stack.push(value);
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!isDict(target)) throw invalid("SETITEMS on a value that is not a dict");
    if (items.length % 2 !== 0) throw invalid("odd number of dict items");
    for (let i = 0; i < items.length; i += 2) setOwn(target, keyOf(items[i]!), items[i + 1]!);
  };
  const appendTo = (target: PickleValue, items: PickleValue[]): void => {
    if (!Array.isArray(target)) throw invalid("APPENDS on a value that is not a list");
    for (const item of items) target.push(item);
  };

  for (;;) {
    if (pos >= end) throw invalid("truncated pickle: no STOP");
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        if (bytes[need(1)]! > 5) throw invalid(`unsupported protocol ${bytes[pos - 1]}`);
        break;
      case 0x95: // FRAME: the frame's bytes follow inline
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        measure(value, limits.maxNodes ?? 1_000_000, limits.maxDepth ?? 64);
        return value;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length > (marks[marks.length - 1] ?? 0)) stack.pop();
        else if (marks.length > 0) marks.pop();
        else throw invalid("stack underflow");
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: { // INT
        const t = line();
        if (t === "01") stack.push(true);
        else if (t === "00") stack.push(false);
        else stack.push(decimal(t, maxIntBytes));
        break;
      }
      case 0x4c: { // LONG
        const t = line();
        stack.push(decimal(t.endsWith("L") ? t.slice(0, -1) : t, maxIntBytes));
        break;
      }
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[need(1)]!);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2), true));
        break;
      case 0x8a: { // LONG1
        const n = bytes[need(1)]!;
        stack.push(littleEndian(raw(n)));
        break;
      }
      case 0x8b: { // LONG4
        const n = view.getInt32(need(4), true);
        if (n < 0) throw invalid("negative LONG4 size");
        if (n > maxIntBytes) throw tooComplex("integer too large");
        stack.push(littleEndian(raw(n)));
        break;
      }
      case 0x46: { // FLOAT
        const t = line().trim();
        const value = t === "inf"
          ? Infinity
          : t === "-inf"
          ? -Infinity
          : t === "nan"
          ? NaN
          : Number(t);
        if (Number.isNaN(value) && t !== "nan") throw invalid(`bad FLOAT ${JSON.stringify(t)}`);
        stack.push(value);
        break;
      }
      case 0x47: // BINFLOAT
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x53: // STRING
        stack.push(pythonStringLiteral(line()));
        break;
      case 0x54: { // BINSTRING
        const n = view.getInt32(need(4), true);
        stack.push(bytesToText(raw(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(bytesToText(raw(bytes[need(1)]!)));
        break;
      case 0x56: // UNICODE
        stack.push(rawUnicodeEscape(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(view.getUint32(need(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(bytes[need(1)]!));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x42: // BINBYTES
        stack.push(raw(view.getUint32(need(4), true)));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(raw(bytes[need(1)]!));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(raw(u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x6c: // LIST
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const item = pop();
        appendTo(top(), [item]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push({});
        break;
      case 0x64: { // DICT
        const items = popMark();
        const dict: { [key: string]: PickleValue } = {};
        setItems(dict, items);
        stack.push(dict);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x70: // PUT
        memo.set(memoIndex(Number(line())), top());
        break;
      case 0x71: // BINPUT
        memo.set(bytes[need(1)]!, top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(need(4), true), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
        get(memoIndex(Number(line())));
        break;
      case 0x68: // BINGET
        get(bytes[need(1)]!);
        break;
      case 0x6a: // LONG_BINGET
        get(view.getUint32(need(4), true));
        break;
      default: {
        const name = FORBIDDEN[op];
        if (name !== undefined) {
          throw new ParseError(
            `Refused pickle: opcode ${name} at byte ${pos - 1} would import or call code`,
            "unsafe_pickle",
          );
        }
        throw invalid(`unknown opcode 0x${op.toString(16).padStart(2, "0")} at byte ${pos - 1}`);
      }
    }
  }
}

function isDict(value: PickleValue): value is { [key: string]: PickleValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/** A dict key as text: strings as they are, other keys as Python would print them. */
function keyOf(key: PickleValue): string {
  if (typeof key === "string") return key;
  if (key === null) return "None";
  if (key === true) return "True";
  if (key === false) return "False";
  if (typeof key === "number" || typeof key === "bigint") return String(key);
  if (key instanceof Uint8Array) return bytesToText(key);
  try {
    return JSON.stringify(key);
  } catch {
    return String(key);
  }
}

function decimal(text: string, maxDigits: number): number | bigint {
  const t = text.trim();
  if (t.length > maxDigits) throw tooComplex("integer too large");
  if (!/^[+-]?\d+$/.test(t)) throw invalid(`bad integer ${JSON.stringify(t.slice(0, 40))}`);
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

function littleEndian(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

function bytesToText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

/** Decodes a protocol-0 STRING argument: a quoted Python 2 `repr` of a byte string. */
function pythonStringLiteral(literal: string): string {
  const quote = literal[0];
  if ((quote !== "'" && quote !== '"') || literal.length < 2 || literal.at(-1) !== quote) {
    throw invalid("STRING argument is not a quoted literal");
  }
  const body = literal.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 92 /* \ */) {
      out.push(c & 0xff);
      continue;
    }
    const e = body[++i];
    switch (e) {
      case "n":
        out.push(10);
        break;
      case "r":
        out.push(13);
        break;
      case "t":
        out.push(9);
        break;
      case "a":
        out.push(7);
        break;
      case "b":
        out.push(8);
        break;
      case "f":
        out.push(12);
        break;
      case "v":
        out.push(11);
        break;
      case "x": {
        const hex = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw invalid("bad \\x escape in STRING");
        out.push(parseInt(hex, 16));
        i += 2;
        break;
      }
      case "\n":
        break;
      default: {
        if (e !== undefined && e >= "0" && e <= "7") {
          const oct = /^[0-7]{1,3}/.exec(body.slice(i))![0];
          out.push(parseInt(oct, 8) & 0xff);
          i += oct.length - 1;
        } else if (e === undefined) throw invalid("bad escape in STRING");
        else out.push(92, e.charCodeAt(0) & 0xff);
      }
    }
  }
  return bytesToText(Uint8Array.from(out));
}

/** Decodes a protocol-0 UNICODE argument (`raw-unicode-escape`). */
function rawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, four, eight) => {
    const code = parseInt(four ?? eight, 16);
    if (code > 0x10ffff) throw invalid("bad \\U escape in UNICODE");
    return String.fromCodePoint(code);
  });
}

/**
 * Checks that the value expands to at most `maxNodes` values, nests at most `maxDepth`
 * containers deep and has no cycle, without recursion (the input is untrusted).
 */
function measure(root: PickleValue, maxNodes: number, maxDepth: number): void {
  if (typeof root !== "object" || root === null || root instanceof Uint8Array) return;
  const done = new Map<object, { weight: number; depth: number }>();
  const onPath = new Set<object>();
  interface Frame {
    node: object;
    kids: PickleValue[];
    i: number;
    weight: number;
    depth: number;
  }
  const open = (node: object): Frame => {
    onPath.add(node);
    if (onPath.size > maxDepth) throw tooComplex(`containers nested deeper than ${maxDepth}`);
    const kids = Array.isArray(node) ? node : Object.values(node);
    return { node, kids, i: 0, weight: 1, depth: 1 };
  };
  const frames: Frame[] = [open(root)];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.i < frame.kids.length) {
      const kid = frame.kids[frame.i++]!;
      if (typeof kid !== "object" || kid === null || kid instanceof Uint8Array) {
        frame.weight++;
      } else if (onPath.has(kid)) {
        throw tooComplex("the value contains itself");
      } else {
        const known = done.get(kid);
        if (known) {
          if (known.depth + onPath.size > maxDepth) {
            throw tooComplex(`containers nested deeper than ${maxDepth}`);
          }
          frame.weight += known.weight;
          frame.depth = Math.max(frame.depth, known.depth + 1);
        } else {
          frames.push(open(kid));
          continue;
        }
      }
      if (frame.weight > maxNodes) throw tooComplex(`value expands beyond ${maxNodes} nodes`);
      continue;
    }
    frames.pop();
    onPath.delete(frame.node);
    done.set(frame.node, { weight: frame.weight, depth: frame.depth });
    const parent = frames[frames.length - 1];
    if (parent) {
      parent.weight += frame.weight;
      parent.depth = Math.max(parent.depth, frame.depth + 1);
      if (parent.weight > maxNodes) throw tooComplex(`value expands beyond ${maxNodes} nodes`);
    }
  }
}

function invalid(detail: string): ParseError {
  return new ParseError(`Invalid pickle: ${detail}`, "invalid_pickle");
}

function tooComplex(detail: string): ParseError {
  return new ParseError(`Refused pickle: ${detail}`, "pickle_too_complex");
}

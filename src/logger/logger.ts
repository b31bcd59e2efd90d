/**
 * Loggers: `getLogger(name)` and the `Logger` class.
 *
 * @module
 */

import { Level, type LevelName, parseLevel } from "../core/levels.ts";
import { type LogRecord, type SerializedError, serializeError } from "../core/record.ts";
import { safeStringify } from "../core/safe_stringify.ts";
import { captureCallSite } from "./call_site.ts";
import { contextStorage } from "./context.ts";
import { type LoggerState, manager } from "./manager.ts";
import { otelTrace } from "./otel_span.ts";
import { spanStorage } from "./span.ts";
import { messageOf } from "../core/message_of.ts";

/** Call-site fields. A function value is evaluated only if the record is built (lazy). */
export type Fields = Record<string, unknown>;

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * A named logger. Loggers of one name share their level; `child()` adds bound fields.
 * A call below the logger's effective level (or below every sink behind it) returns at
 * once: the method is an empty function. The level methods live on a prototype per logger
 * name that takes its copy of `Logger.prototype`'s methods when the level changes, so a spy
 * belongs on the logger object itself.
 *
 * Every level method also takes a tagged template, as LogTape's do: the message is the
 * template with its values rendered (strings as they are, Errors by message, objects as
 * JSON); a value written `${{ name }}` (an object of one key) becomes the field `name`, the
 * other values are kept in order in the field `args` (Python's `record.args`); a function
 * value is called only when the level is enabled; the first Error is the record's `error`.
 *
 * @example A tagged template keeps its values
 * ```ts
 * import assert from "node:assert/strict";
 * import { configure, getLogger, memoryRecords, shutdown } from "../../mod.ts";
 * await configure({
 *   sources: { app: { type: "logger" } },
 *   sinks: { mem: { type: "memory", name: "logger-doc-template" } },
 * });
 * const id = 42, amount = 12.5;
 * getLogger("shop").info`user ${id} paid ${amount} for ${{ order: "A-17" }}`;
 * await shutdown();
 * const [record] = memoryRecords("logger-doc-template");
 * assert.equal(record?.message, "user 42 paid 12.5 for A-17");
 * assert.deepEqual(record?.fields, { order: "A-17", args: [42, 12.5] });
 * ```
 */
export class Logger {
  readonly #state: LoggerState;
  readonly #bound: Fields | undefined;
  readonly #lazyBound: boolean;

  /** Use {@linkcode getLogger}. */
  constructor(state: LoggerState, bound?: Fields) {
    this.#state = state;
    this.#bound = bound;
    this.#lazyBound = bound !== undefined &&
      Object.values(bound).some((v) => typeof v === "function");
  }

  /** The dotted name (`""` for the root). */
  get name(): string {
    return this.#state.name;
  }

  /** Logs at TRACE (5). A tagged template (`` log.trace`…${v}` ``) keeps its values as fields. */
  trace(message: string, fields?: Fields): void;
  /** Logs at TRACE (5), from a tagged template: see {@linkcode Logger}. */
  trace(template: TemplateStringsArray, ...values: unknown[]): void;
  trace(message: string | TemplateStringsArray, fields?: unknown): void {
    if (Level.TRACE >= this.#state.gate) {
      if (isTemplate(message)) this.#logTemplate(Level.TRACE, arguments);
      else this.#log(Level.TRACE, message, fields as Fields | undefined);
    }
  }
  /** Logs at DEBUG (10). A tagged template (`` log.debug`…${v}` ``) keeps its values as fields. */
  debug(message: string, fields?: Fields): void;
  /** Logs at DEBUG (10), from a tagged template: see {@linkcode Logger}. */
  debug(template: TemplateStringsArray, ...values: unknown[]): void;
  debug(message: string | TemplateStringsArray, fields?: unknown): void {
    if (Level.DEBUG >= this.#state.gate) {
      if (isTemplate(message)) this.#logTemplate(Level.DEBUG, arguments);
      else this.#log(Level.DEBUG, message, fields as Fields | undefined);
    }
  }
  /** Logs at INFO (20). A tagged template (`` log.info`…${v}` ``) keeps its values as fields. */
  info(message: string, fields?: Fields): void;
  /** Logs at INFO (20), from a tagged template: see {@linkcode Logger}. */
  info(template: TemplateStringsArray, ...values: unknown[]): void;
  info(message: string | TemplateStringsArray, fields?: unknown): void {
    if (Level.INFO >= this.#state.gate) {
      if (isTemplate(message)) this.#logTemplate(Level.INFO, arguments);
      else this.#log(Level.INFO, message, fields as Fields | undefined);
    }
  }
  /** Logs at WARN (30). A tagged template (`` log.warn`…${v}` ``) keeps its values as fields. */
  warn(message: string, fields?: Fields): void;
  /** Logs at WARN (30), from a tagged template: see {@linkcode Logger}. */
  warn(template: TemplateStringsArray, ...values: unknown[]): void;
  warn(message: string | TemplateStringsArray, fields?: unknown): void {
    if (Level.WARN >= this.#state.gate) {
      if (isTemplate(message)) this.#logTemplate(Level.WARN, arguments);
      else this.#log(Level.WARN, message, fields as Fields | undefined);
    }
  }
  /** Logs at WARN (30): Python's name for `warn()`. A tagged template (`` log.warning`…${v}` ``) keeps its values as fields. */
  warning(message: string, fields?: Fields): void;
  /** Logs at WARN (30), from a tagged template: see {@linkcode Logger}. */
  warning(template: TemplateStringsArray, ...values: unknown[]): void;
  warning(message: string | TemplateStringsArray, fields?: unknown): void {
    if (Level.WARN >= this.#state.gate) {
      if (isTemplate(message)) this.#logTemplate(Level.WARN, arguments);
      else this.#log(Level.WARN, message, fields as Fields | undefined);
    }
  }
  /** Logs at ERROR (40); an Error as message or field value is serialized with its cause chain. A tagged template (`` log.error`…${v}` ``) keeps its values as fields. */
  error(message: string | Error, fields?: Fields): void;
  /** Logs at ERROR (40), from a tagged template: see {@linkcode Logger}. */
  error(template: TemplateStringsArray, ...values: unknown[]): void;
  error(message: string | Error | TemplateStringsArray, fields?: unknown): void {
    if (Level.ERROR >= this.#state.gate) {
      if (isTemplate(message)) this.#logTemplate(Level.ERROR, arguments);
      else this.#log(Level.ERROR, message, fields as Fields | undefined);
    }
  }
  /** Logs at CRITICAL (50). A tagged template (`` log.critical`…${v}` ``) keeps its values as fields. */
  critical(message: string | Error, fields?: Fields): void;
  /** Logs at CRITICAL (50), from a tagged template: see {@linkcode Logger}. */
  critical(template: TemplateStringsArray, ...values: unknown[]): void;
  critical(message: string | Error | TemplateStringsArray, fields?: unknown): void {
    if (Level.CRITICAL >= this.#state.gate) {
      if (isTemplate(message)) this.#logTemplate(Level.CRITICAL, arguments);
      else this.#log(Level.CRITICAL, message, fields as Fields | undefined);
    }
  }
  /** Logs at any level number. */
  log(level: number, message: string | Error, fields?: Fields): void {
    if (level >= this.#state.gate) this.#log(level, message, fields);
  }

  /** Whether a call at `level` would build a record. */
  isEnabled(level: number | LevelName): boolean {
    const n = typeof level === "number" ? level : parseLevel(level) ?? Infinity;
    return n >= this.#state.gate;
  }

  /** A logger of the same name whose records carry `fields` too. */
  child(fields: Fields): Logger {
    const bound = this.#bound ? { ...this.#bound, ...fields } : { ...fields };
    return new (classOf(this.#state))(this.#state, bound);
  }

  /** Sets this name's level (`"notset"` or 0 inherits), as Python's `setLevel`. */
  setLevel(level: number | LevelName | "notset"): void {
    const n = parseLevel(level);
    if (n === undefined) throw new RangeError(`Unknown level ${JSON.stringify(level)}`);
    this.#state.level = n;
    manager.refresh();
  }

  /** Sets whether records reach logger sources attached to ancestors. */
  set propagate(value: boolean) {
    this.#state.propagate = value;
    manager.refresh();
  }
  /** Whether records reach logger sources attached to ancestors. */
  get propagate(): boolean {
    return this.#state.propagate;
  }

  /**
   * A tagged template's call: `args[0]` is the strings, the rest its values. The message is
   * the template with each value rendered; a value written `${{ name }}` (an object of one
   * key) becomes the field `name`, the others are kept in order in the field `args`, as
   * Python keeps a call's `record.args`. A function value is called (lazy, as in fields).
   * The first Error among the values is the record's error.
   */
  #logTemplate(level: number, args: IArguments): void {
    const strings = args[0] as TemplateStringsArray;
    let text = strings[0]!;
    let fields: Fields | undefined;
    let positional: unknown[] | undefined;
    let error: SerializedError | undefined;
    for (let i = 1; i < args.length; i++) {
      let value: unknown = args[i];
      const name = singleKey(value);
      if (name !== undefined) value = (value as Fields)[name];
      if (typeof value === "function") value = evaluate(value as () => unknown);
      if (name !== undefined) {
        (fields ??= {})[name] = value;
      } else if (value instanceof Error) {
        const serialized = serializeError(value);
        error ??= serialized;
        (positional ??= []).push(serialized);
      } else (positional ??= []).push(value);
      text += render(value) + strings[i]!;
    }
    if (positional !== undefined) (fields ??= {}).args = positional;
    this.#log(level, text, fields, 2, error);
  }

  #log(
    level: number,
    message: string | Error,
    fields: Fields | undefined,
    depth = 1,
    templateError?: SerializedError,
  ): void {
    let error: SerializedError | undefined = templateError;
    let text: string;
    if (typeof message === "string") text = message;
    else if (message instanceof Error) {
      error = serializeError(message);
      text = message.message;
    } else text = String(message);

    let own = fields;
    if (own !== undefined) {
      for (const key in own) {
        const value = own[key];
        if (typeof value === "function" || value instanceof Error) {
          const resolved = resolveFields(own, error === undefined);
          own = resolved.fields;
          if (resolved.error) error = resolved.error;
          break;
        }
      }
    }
    const context = contextStorage.getStore();
    const bound = this.#bound;
    let merged: Fields;
    if (bound === undefined && context === undefined) merged = own ?? EMPTY;
    else {
      merged = {
        ...context,
        ...(this.#lazyBound ? resolveFields(bound!, false).fields : bound),
        ...own,
      };
    }
    const span = spanStorage.getStore() ?? otelTrace();
    const record: LogRecord = {
      time: Date.now(),
      level,
      logger: this.#state.name,
      message: text,
      fields: merged,
    };
    if (error !== undefined) record.error = error;
    if (span !== undefined) {
      record.trace_id = span.trace_id;
      record.span_id = span.span_id;
      if (span.parent_span_id !== undefined) record.parent_span_id = span.parent_span_id;
      record.trace_flags = span.trace_flags;
    }
    // `depth` frames below #log is the user's line: the level method, and #logTemplate.
    if (this.#state.withCaller) {
      const site = captureCallSite(this.#log, depth);
      if (site !== undefined) record.caller = site;
    }
    const targets = this.#state.targets;
    for (let i = 0; i < targets.length; i++) targets[i]!.push(record);
  }
}

const LEVEL_METHODS = [
  ["trace", Level.TRACE],
  ["debug", Level.DEBUG],
  ["info", Level.INFO],
  ["warn", Level.WARN],
  ["warning", Level.WARN],
  ["error", Level.ERROR],
  ["critical", Level.CRITICAL],
] as const;

function disabled(): void {}

function isTemplate(message: unknown): message is TemplateStringsArray {
  return typeof message === "object" && message !== null && Array.isArray(message) &&
    "raw" in message;
}

/** The key of a plain object of exactly one own key (`${{ id }}`), else undefined. */
function singleKey(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  let key: string | undefined;
  for (const k in value) {
    if (key !== undefined) return undefined;
    key = k;
  }
  return key;
}

/** A template value as text: strings as they are, Errors by message, objects as JSON. */
function render(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "object":
      if (value === null) return "null";
      if (value instanceof Error) return value.message;
      if (value instanceof Date) {
        return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
      }
      return safeStringify(value);
    default:
      return String(value);
  }
}

const classes = new WeakMap<LoggerState, typeof Logger>();

/**
 * Loggers of one name are instances of one subclass whose prototype turns every level
 * method below the gate into the same empty function, as pino does. V8 inlines the empty
 * call and then drops the fields object the call site builds; behind a gate comparison the
 * object stays allocated, which made a disabled call about four times as slow.
 */
function classOf(state: LoggerState): typeof Logger {
  let cls = classes.get(state);
  if (cls === undefined) {
    // Named Logger too, so that inspecting a logger shows what it is.
    cls = { Logger: class extends Logger {} }.Logger;
    const methods = cls.prototype as unknown as Record<string, unknown>;
    const base = Logger.prototype as unknown as Record<string, unknown>;
    const follow = (gate: number) => {
      for (const [name, level] of LEVEL_METHODS) {
        // Not enumerable, as class methods are not.
        Object.defineProperty(methods, name, {
          value: level >= gate ? base[name] : disabled,
          writable: true,
          configurable: true,
        });
      }
    };
    follow(state.gate);
    state.onGate = follow;
    classes.set(state, cls);
  }
  return cls;
}

function evaluate(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (thrown) {
    return `[lazy field threw: ${messageOf(thrown)}]`;
  }
}

function resolveFields(
  fields: Fields,
  takeError: boolean,
): { fields: Fields; error?: SerializedError } {
  const out: Fields = {};
  let error: SerializedError | undefined;
  for (const key in fields) {
    let value = fields[key];
    if (typeof value === "function") value = evaluate(value as () => unknown);
    if (value instanceof Error) {
      if (takeError && error === undefined) {
        error = serializeError(value);
        continue;
      }
      value = serializeError(value);
    }
    out[key] = value;
  }
  return error ? { fields: out, error } : { fields: out };
}

/**
 * Returns the logger of a dotted name; `""` (or no argument) is the root. Loggers form a
 * hierarchy as in Python: `payment.db` inherits its level from `payment`, then the root.
 *
 * @example Log with fields and a lazy value
 * ```ts
 * import { getLogger } from "./logger.ts";
 * const log = getLogger("payment.db");
 * log.debug("query", { sql: () => "expensive to build" }); // not built below DEBUG
 * log.info("charged", { amount_cents: 1250 });
 * ```
 */
export function getLogger(name = ""): Logger {
  const state = manager.state(name);
  return new (classOf(state))(state);
}

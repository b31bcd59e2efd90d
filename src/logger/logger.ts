/**
 * Loggers: `getLogger(name)` and the `Logger` class.
 *
 * @module
 */

import { Level, type LevelName, parseLevel } from "../core/levels.ts";
import { type LogRecord, type SerializedError, serializeError } from "../core/record.ts";
import { captureCallSite } from "./call_site.ts";
import { contextStorage } from "./context.ts";
import { type LoggerState, manager } from "./manager.ts";
import { otelTrace } from "./otel_span.ts";
import { spanStorage } from "./span.ts";

/** Call-site fields. A function value is evaluated only if the record is built (lazy). */
export type Fields = Record<string, unknown>;

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * A named logger. Loggers of one name share their level; `child()` adds bound fields.
 * A call below the logger's effective level (or below every sink behind it) returns at
 * once: the method is an empty function. The level methods live on a prototype per logger
 * name that takes its copy of `Logger.prototype`'s methods when the level changes, so a spy
 * belongs on the logger object itself.
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

  /** Logs at TRACE (5). */
  trace(message: string, fields?: Fields): void {
    if (Level.TRACE >= this.#state.gate) this.#log(Level.TRACE, message, fields);
  }
  /** Logs at DEBUG (10). */
  debug(message: string, fields?: Fields): void {
    if (Level.DEBUG >= this.#state.gate) this.#log(Level.DEBUG, message, fields);
  }
  /** Logs at INFO (20). */
  info(message: string, fields?: Fields): void {
    if (Level.INFO >= this.#state.gate) this.#log(Level.INFO, message, fields);
  }
  /** Logs at WARN (30). */
  warn(message: string, fields?: Fields): void {
    if (Level.WARN >= this.#state.gate) this.#log(Level.WARN, message, fields);
  }
  /** Logs at WARN (30): Python's name for `warn()`. */
  warning(message: string, fields?: Fields): void {
    if (Level.WARN >= this.#state.gate) this.#log(Level.WARN, message, fields);
  }
  /** Logs at ERROR (40); an Error as message or field value is serialized with its cause chain. */
  error(message: string | Error, fields?: Fields): void {
    if (Level.ERROR >= this.#state.gate) this.#log(Level.ERROR, message, fields);
  }
  /** Logs at CRITICAL (50). */
  critical(message: string | Error, fields?: Fields): void {
    if (Level.CRITICAL >= this.#state.gate) this.#log(Level.CRITICAL, message, fields);
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

  #log(level: number, message: string | Error, fields: Fields | undefined): void {
    let error: SerializedError | undefined;
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
    // One frame below #log is the level method; the one below it is the user's line.
    if (this.#state.withCaller) {
      const site = captureCallSite(this.#log, 1);
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

function resolveFields(
  fields: Fields,
  takeError: boolean,
): { fields: Fields; error?: SerializedError } {
  const out: Fields = {};
  let error: SerializedError | undefined;
  for (const key in fields) {
    let value = fields[key];
    if (typeof value === "function") {
      try {
        value = (value as () => unknown)();
      } catch (thrown) {
        value = `[lazy field threw: ${thrown instanceof Error ? thrown.message : String(thrown)}]`;
      }
    }
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

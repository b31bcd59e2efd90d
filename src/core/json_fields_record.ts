/**
 * A record whose fields are still the JSON text they arrived as.
 *
 * @module
 */

import type { LogRecord } from "./record.ts";

type Fields = Record<string | symbol, unknown>;

/** The text a reader cut records' strings from: one per read, shared by its records. */
export interface TextBlock {
  /** The bytes it holds in memory (one per character for ASCII text, else up to two). */
  readonly length: number;
  /** Whether it is all ASCII (else its records' strings may hold any character). */
  readonly ascii?: boolean;
}

/**
 * The `fields` of a {@linkcode JsonFieldsRecord}: a Proxy over an empty plain object that is
 * filled from the JSON text on the first operation of any kind, then forwards every operation
 * to it (so `Object.freeze`, `for…in`, `JSON.stringify` and `structuredClone` behave as on a
 * plain object). It also puts the filled object on the record, so later reads skip the Proxy.
 */
class LazyFields implements ProxyHandler<Fields> {
  json: string | undefined;
  record: JsonFieldsRecord | undefined;
  proxy: Fields | undefined;
  target: Fields | undefined;

  constructor(json: string) {
    this.json = json;
  }

  load(target: Fields): void {
    const json = this.json;
    if (json === undefined) return;
    this.json = undefined;
    if (json !== "") {
      // The JSON line scanner takes no `__proto__` key, so plain assignment keeps every key data.
      const parsed = JSON.parse("{" + json + "}") as Fields;
      for (const key in parsed) target[key] = parsed[key];
    }
    const record = this.record;
    this.record = undefined;
    // Reflect.set: a frozen record keeps its Proxy (which forwards) instead of throwing.
    if (record !== undefined && record.fields === this.proxy) Reflect.set(record, "fields", target);
  }

  get(target: Fields, key: string | symbol, receiver: unknown): unknown {
    this.load(target);
    return Reflect.get(target, key, receiver === this.proxy ? target : receiver);
  }
  set(target: Fields, key: string | symbol, value: unknown, receiver: unknown): boolean {
    this.load(target);
    return Reflect.set(target, key, value, receiver === this.proxy ? target : receiver);
  }
  has(target: Fields, key: string | symbol): boolean {
    this.load(target);
    return Reflect.has(target, key);
  }
  deleteProperty(target: Fields, key: string | symbol): boolean {
    this.load(target);
    return Reflect.deleteProperty(target, key);
  }
  ownKeys(target: Fields): (string | symbol)[] {
    this.load(target);
    return Reflect.ownKeys(target);
  }
  getOwnPropertyDescriptor(target: Fields, key: string | symbol): PropertyDescriptor | undefined {
    this.load(target);
    return Reflect.getOwnPropertyDescriptor(target, key);
  }
  defineProperty(target: Fields, key: string | symbol, descriptor: PropertyDescriptor): boolean {
    this.load(target);
    return Reflect.defineProperty(target, key, descriptor);
  }
  preventExtensions(target: Fields): boolean {
    this.load(target);
    return Reflect.preventExtensions(target);
  }
}

/**
 * A record built from an ingested JSON line whose fields are kept as their JSON text
 * (`"id":1,"user":"ada"`: an object's members without its braces) until something touches
 * `fields`: then they are parsed once and the record is like any other. `fields` is an own
 * data property as on every record (a spread or `JSON.stringify` sees it); until first use it
 * is a Proxy that parses on any operation. The text must be what `JSON.stringify` writes for
 * those fields (`JsonBlockReader` only builds such records when it is), so the json
 * formatter writes it as it stands while the fields are untouched, and the sink queue charges
 * its length instead of walking them. One difference remains: `structuredClone` (and
 * `postMessage`) refuse a Proxy, so they take such a record only once its fields were touched
 * (`record.fields.x`, `{ ...record.fields }`); Sluice itself clones no record.
 *
 * @example Fields parse on first use
 * ```ts
 * import { JsonFieldsRecord } from "./json_fields_record.ts";
 * import assert from "node:assert/strict";
 * const record = new JsonFieldsRecord(0, 20, "app", "hi", '"id":1,"user":"ada"');
 * assert.equal(JsonFieldsRecord.fieldsJson(record), '"id":1,"user":"ada"');
 * assert.deepEqual({ ...record }.fields, { id: 1, user: "ada" });
 * assert.equal(JsonFieldsRecord.fieldsJson(record), undefined);
 * ```
 */
export class JsonFieldsRecord implements LogRecord {
  /**
   * Marks a formatter that writes a JsonFieldsRecord's kept text (the json formatter with its
   * default key names), and a sink whose every record goes to such a formatter: the pipeline
   * hands any other sink settled records ({@linkcode JsonFieldsRecord.settle}), since code
   * that keeps the `fields` Proxy in a variable pays a trap per access (3-4x the time of
   * logfmt and text formatting when it was not settled).
   */
  static readonly TAKES_TEXT: unique symbol = Symbol("sluice.takesFieldsJson");

  /** Milliseconds since the epoch. */
  time: number;
  /** Severity number. */
  level: number;
  /** The logger name. */
  logger: string;
  /** The message. */
  message: string;
  /** The fields: a Proxy that parses them from their JSON text on first use. */
  fields: Record<string, unknown>;
  readonly #lazy: LazyFields;
  readonly #block: TextBlock | undefined;

  /**
   * A record whose fields are `json`: object members as `JSON.stringify` writes them, or "".
   * `block` is the text its strings are cuts of, when they are (see
   * {@linkcode JsonFieldsRecord.blockOf}).
   */
  constructor(
    time: number,
    level: number,
    logger: string,
    message: string,
    json: string,
    block?: TextBlock,
  ) {
    this.time = time;
    this.level = level;
    this.logger = logger;
    this.message = message;
    const lazy = new LazyFields(json);
    const target = {};
    const proxy = new Proxy(target, lazy);
    lazy.record = this;
    lazy.proxy = proxy;
    lazy.target = target;
    this.fields = proxy;
    this.#lazy = lazy;
    this.#block = block;
  }

  /** How `console.log` and `Deno.inspect` show it: fields parsed, as a plain record. */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    JsonFieldsRecord.settle(this);
    return inspect({ ...this }, options);
  }

  /**
   * The block of text this record's strings were cut from, while they may still be cuts of it:
   * a cut of a string keeps the whole string alive, so a queue that holds such a record
   * charges the block once (the records of one read arrive together), not just the cuts.
   */
  static blockOf(record: LogRecord): TextBlock | undefined {
    return record instanceof JsonFieldsRecord && #block in record ? record.#block : undefined;
  }

  // Every check below asks `instanceof` first: a private-name check on an object without the
  // name costs about 25 ns, `instanceof` 2 (three per record in the file sink's path made
  // in-process JSON about 20% slower).

  /**
   * The fields' JSON text while nothing has touched `fields` (so nothing can have changed
   * them); `undefined` once they are parsed or replaced, and for every other record.
   */
  static fieldsJson(record: LogRecord): string | undefined {
    if (!(record instanceof JsonFieldsRecord && #lazy in record)) return undefined;
    const lazy = record.#lazy;
    return record.fields === lazy.proxy ? lazy.json : undefined;
  }

  /** Whether `sink` (or formatter) carries the {@linkcode JsonFieldsRecord.TAKES_TEXT} mark. */
  static takesText(sink: object): boolean {
    return (sink as Record<symbol, unknown>)[JsonFieldsRecord.TAKES_TEXT] === true;
  }

  /** Puts the {@linkcode JsonFieldsRecord.TAKES_TEXT} mark on `target`. */
  static mark(target: object): void {
    (target as Record<symbol, unknown>)[JsonFieldsRecord.TAKES_TEXT] = true;
  }

  /**
   * `record` with its fields parsed into a plain object now, when it is a JsonFieldsRecord
   * (any other record as it is): for a processor, which reads fields anyway and would do so
   * through the Proxy on every access.
   */
  static settle<T extends LogRecord>(record: T): T {
    if (record instanceof JsonFieldsRecord && #lazy in record) {
      const lazy = record.#lazy;
      if (record.fields === lazy.proxy) lazy.load(lazy.target!);
    }
    return record;
  }
}

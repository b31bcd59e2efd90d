/**
 * The plugin contract: what a plugin module exports and what its live components look like.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import type { FormatterSpec, ObjectSchema, Shape } from "../schema/schema.ts";

/** The four kinds of plugin. */
export type PluginKind = "source" | "processor" | "formatter" | "sink";

/** A formatter turns one record into one line (without the trailing newline). */
export type Formatter = (record: LogRecord) => string | Uint8Array;

/**
 * A processor returns the record (or a new one) to pass it on, `null` to drop (or hold) it,
 * or an array of records to pass on several at once, in order (records it held before, a
 * summary of what it dropped). It is synchronous: processors run inside the log call and
 * must not do I/O.
 */
export type Processor = (record: LogRecord) => LogRecord | readonly LogRecord[] | null;

/**
 * A sink receives batches. `write` may be asynchronous; the pipeline never runs two
 * writes of one sink at once. A sink that can also write synchronously (a file, a
 * console) implements `writeSync`, which lets in-process loggers apply back-pressure
 * (`when_full: block`; its definition says so with `writesSync`) and lets the process flush
 * at exit without losing records.
 */
export interface Sink extends AsyncDisposable {
  /** Delivers a batch; rejects if nothing of it was delivered. */
  write(records: readonly LogRecord[]): Promise<void> | void;
  /** Delivers a batch synchronously (optional). */
  writeSync?(records: readonly LogRecord[]): void;
  /** Makes delivered batches durable (for example fsync); called by flush() and shutdown(). */
  flush?(): Promise<void> | void;
  /**
   * How long (ms) the pipeline lets records gather before it writes a batch (default 0:
   * write as soon as the event loop is free). A half-full queue is written at once anyway.
   */
  readonly maxWait?: number;
  /** Closes and reopens files after an outside rotation (SIGHUP); optional. */
  reopen?(): void;
  /**
   * The analysis the sink answers at `GET /stats/<id>` as a JSON-safe object (the `stats`
   * sink's services, traces and errors); optional. Called per request, never per record.
   */
  stats?(): object;
}

/** An HTTP route a source serves on the Sluice server (the `http` source's ingest route). */
export interface Route {
  /** HTTP methods, upper case. */
  methods: readonly string[];
  /** The path, such as `/ingest`. */
  path: string;
  /** Handles one request. */
  handle(request: Request): Promise<Response> | Response;
  /**
   * Optional: handles one request whose body the Sluice server already read whole (within
   * `server.max_body_bytes`), instead of `handle`; `request.body` is then spent. It spares
   * copying the body into a new request and reading it back through a stream.
   */
  handleBody?(request: Request, body: Uint8Array): Promise<Response> | Response;
}

/**
 * A source pushes records into the pipeline through its {@linkcode SourceContext} from
 * `start()` until it is disposed. It may expose `routes` for the Sluice server.
 */
export interface Source extends AsyncDisposable {
  /** Begins producing records. */
  start(): Promise<void> | void;
  /** Routes served by the Sluice server, if any. */
  routes?: readonly Route[];
}

/** A counter a plugin registers for `/metrics` (`sluice_<name>`, labelled with the component). */
export interface Counter {
  /** Adds `n` (default 1). */
  inc(n?: number): void;
  /** The current value. */
  readonly value: number;
}

/** Sluice's own diagnostics: printed once per key to stderr and counted. */
export interface InternalLog {
  /** Reports a problem once per `key` (repeats are counted, not printed). */
  warnOnce(key: string, message: string, error?: unknown): void;
  /** Reports a notice. */
  info(message: string): void;
}

/** What every plugin's `create` receives. */
export interface PluginContext {
  /** The component's id in the config (`sinks.<id>`); formatters get their sink's id. */
  readonly id: string;
  /** The directory relative paths resolve against (the config file's directory or cwd). */
  readonly baseDir: string;
  /** The state directory (`data_dir:`), for checkpoints and buffers. */
  readonly dataDir: string;
  /** Creates a formatter from a validated `format:` value. */
  createFormatter(spec: FormatterSpec): Formatter;
  /** Registers (or returns) a counter `sluice_<name>` labelled with this component. */
  counter(name: string, help: string, labels?: Record<string, string>): Counter;
  /** Sluice's internal log. */
  readonly log: InternalLog;
  /** An abort signal that fires when the pipeline shuts down. */
  readonly signal: AbortSignal;
}

/** A source's context: how it hands records to the pipeline. */
export interface SourceContext extends PluginContext {
  /**
   * Routes a batch and resolves once every sink queue it reached has room again: awaiting
   * it is the source's back-pressure. Never rejects.
   */
  emit(records: readonly LogRecord[]): Promise<void>;
  /**
   * Routes a batch like `emit` and resolves `true` once every sink it reached holds it
   * safely — appended to the sink's disk buffer (synced first with `fsync: always`), or
   * delivered for a sink with a memory buffer — and `false` when a sink dropped records or
   * handed them to its fallback meanwhile, or `timeoutMs` passed first. What a source with
   * `acknowledgements: true` waits for before it answers its sender. Never rejects.
   */
  emitAcknowledged(records: readonly LogRecord[], timeoutMs: number): Promise<boolean>;
  /** Counts a rejected input (a malformed line, a bad frame) by reason. */
  reject(reason: string, count?: number): void;
  /**
   * Routes one in-process record without waiting: full sink queues apply their `when_full`
   * policy. This is the path of `getLogger()` calls.
   */
  push(record: LogRecord): void;
  /** The lowest level any sink reachable from this source accepts (`Infinity` when none). */
  readonly minLevel: number;
  /**
   * Whether every component this source feeds is a sink whose formatter writes a record's
   * fields from the JSON text they arrived as (the json formatter, memory buffer): a JSON line
   * source then reads lines with a `JsonBlockReader`, which keeps that text. Optional: absent is false.
   */
  readonly fieldsAsText?: boolean;
  /** Identifies the pipeline this source belongs to (the newest pipeline owns in-process logging). */
  readonly owner: object;
}

/** The live component each kind creates. */
export interface ComponentOf {
  /** A source. */
  source: Source;
  /** A processor function. */
  processor: Processor;
  /** A formatter function. */
  formatter: Formatter;
  /** A sink. */
  sink: Sink;
}

/** The context each kind's `create` receives. */
export interface ContextOf {
  /** Sources can emit records. */
  source: SourceContext;
  /** Processors get the common context. */
  processor: PluginContext;
  /** Formatters get the common context. */
  formatter: PluginContext;
  /** Sinks get the common context. */
  sink: PluginContext;
}

/** What `create` returns: formatters synchronously (sinks create them while being created). */
export type Created<K extends PluginKind> = K extends "formatter" ? Formatter
  : ComponentOf[K] | Promise<ComponentOf[K]>;

/** The parsed options type of a plugin's schema. */
export type OptionsOf<S extends Shape> = ObjectSchema<S> extends { parse(...a: never[]): infer T }
  ? Exclude<T, undefined>
  : never;

/** A plugin definition: what a plugin module exports (made with `definePlugin`). */
export interface PluginDefinition<K extends PluginKind = PluginKind, S extends Shape = Shape> {
  /** Which kind of component it makes. */
  kind: K;
  /** Its `type:` name. */
  type: string;
  /** One sentence for the README and JSON Schema. */
  description: string;
  /** Its options (unknown keys are rejected, defaults filled). */
  options: ObjectSchema<S>;
  /**
   * Set by sinks whose component implements `writeSync`: only those can honour
   * `when_full: block` for log calls (`check` refuses it on the others).
   */
  writesSync?: boolean;
  /** Set by sources that are served by the Sluice server (their routes need a `server:` section). */
  needsServer?: boolean;
  /**
   * What the component needs from Deno's permissions with these options, for
   * `sluice permissions` (files it writes, hosts it reaches, variables it reads).
   */
  permissions?(options: OptionsOf<S>, context: PermissionContext): PluginPermissions;
  /** Makes the live component. */
  create(options: OptionsOf<S>, context: ContextOf[K]): Created<K>;
}

/** What a plugin's `permissions()` receives. */
export interface PermissionContext {
  /** The directory relative paths resolve against. */
  readonly baseDir: string;
  /** The state directory (`data_dir:`). */
  readonly dataDir: string;
}

/**
 * Deno permissions a component needs. Paths may be relative to `baseDir`; a directory
 * grants everything below it.
 */
export interface PluginPermissions {
  /** Paths it reads (`--allow-read`). */
  read?: readonly string[];
  /** Paths it writes or creates (`--allow-write`). */
  write?: readonly string[];
  /** `host:port` (or `host`) it connects to or listens on (`--allow-net`). */
  net?: readonly string[];
  /** Environment variables it reads (`--allow-env`). */
  env?: readonly string[];
  /** System information it reads, such as `hostname` (`--allow-sys`). */
  sys?: readonly string[];
}

/** Looks up a formatter definition by type (or module) when a sink creates its formatter. */
export type FormatterLookup = (spec: FormatterSpec) => PluginDefinition<"formatter"> | undefined;

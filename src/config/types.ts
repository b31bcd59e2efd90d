/**
 * The validated config the pipeline is built from.
 *
 * @module
 */

import type { PluginDefinition, PluginKind } from "../plugin/types.ts";

/** How a sink's queue behaves when it is full. */
export type WhenFull = "block" | "drop_newest" | "drop_oldest";

/** A component after validation: its plugin and parsed options. */
export interface ComponentConfig<K extends PluginKind = PluginKind> {
  /** The id (its key under sources/processors/sinks). */
  id: string;
  /** The `type:` (or, for a module plugin, the type its definition declares). */
  type: string;
  /** The plugin definition. */
  definition: PluginDefinition<K>;
  /** The plugin's own options, parsed, defaults filled. */
  options: Record<string, unknown>;
}

/** A processor: a component with inputs. */
export interface ProcessorConfig extends ComponentConfig<"processor"> {
  /** Source or processor ids it reads from. */
  inputs: string[];
}

/** A sink's queue bounds. */
export interface BufferConfig {
  /** Most records queued. */
  max_records: number;
  /** Most bytes queued, estimated by `estimateRecordBytes` (message, string fields, error text). */
  max_bytes: number;
  /** Policy for in-process loggers when full; sources always wait (back-pressure). */
  when_full: WhenFull;
  /**
   * Set for `type: disk`: the queue is a disk buffer under `<data_dir>/buffers/<sink id>/`,
   * `max_bytes` bounds its files, and `max_records` the records of one batch read back.
   */
  disk?: DiskBufferConfig;
}

/** A disk buffer's durability settings. */
export interface DiskBufferConfig {
  /** When appends are synced: `always` (each, before acknowledging), `interval`, `never`. */
  fsync: "always" | "interval" | "never";
  /** How often `interval` syncs (ms). */
  fsync_interval: number;
}

/** A sink: a component with inputs, a level, a queue and an optional fallback. */
export interface SinkConfig extends ComponentConfig<"sink"> {
  /** Source or processor ids it reads from; every source when omitted. */
  inputs: string[];
  /** Minimum level. */
  level: number;
  /** Queue bounds and policy. */
  buffer: BufferConfig;
  /** Another sink that takes what this one cannot deliver. */
  fallback?: string;
  /** How long delivery must fail before batches go to the fallback (ms). */
  fallback_after: number;
}

/** A logger's settings under `loggers:`. */
export interface LoggerConfig {
  /** Explicit level; NOTSET (0) inherits. */
  level: number;
  /** Whether records also reach logger sources attached to ancestors. */
  propagate: boolean;
  /** Whether records carry their call site (`caller`); inherited when undefined. */
  caller?: boolean;
}

/** The server section. */
export interface ServerConfig {
  /** Host to bind. */
  hostname: string;
  /** Port to bind (0 picks a free one). */
  port: number;
  /** Bearer token required on ingest and metrics routes, when set. */
  token?: string;
  /** Largest accepted request body in bytes. */
  max_body_bytes: number;
  /** Most open connections. */
  max_connections: number;
  /** Longest time for a request's headers, in ms. */
  header_timeout: number;
  /** Longest pause in a request body, in ms. */
  body_timeout: number;
  /** Longest idle keep-alive wait, in ms. */
  idle_timeout: number;
  /** Per-client token bucket on ingest routes; `requests_per_second: 0` disables it. */
  rate_limit: { requests_per_second: number; burst: number };
  /**
   * Failed authentications each client may make per `window` (ms) before the authenticated
   * routes answer it 429; absent in configs built by hand (then 10 per minute).
   */
  auth_failures?: { max: number; window: number };
}

/** A whole validated config. */
export interface ResolvedConfig {
  /** Where relative paths resolve from. */
  baseDir: string;
  /** State directory for checkpoints. */
  dataDir: string;
  /** The server, when configured. */
  server?: ServerConfig;
  /** Per-logger levels; `""` is the root. */
  loggers: Record<string, LoggerConfig>;
  /** Sources by id. */
  sources: Record<string, ComponentConfig<"source">>;
  /** Processors by id. */
  processors: Record<string, ProcessorConfig>;
  /** Sinks by id. */
  sinks: Record<string, SinkConfig>;
  /**
   * The variables the config took values from (`${VAR}`), so that a diagnostic names them
   * instead of showing a value that may be a secret.
   */
  environment?: readonly { name: string; value: string }[];
}

/**
 * Sluice: a logging toolkit and log agent for Deno.
 *
 * Log through a dotted logger hierarchy with Python's levels, structured fields and
 * implicit context; records flow through a pipeline of sources, processors and sinks that
 * a YAML file (or an object) declares.
 *
 * @example Log, configure, shut down
 * ```ts
 * import { configure, getLogger, shutdown, withContext } from "./mod.ts";
 *
 * await configure({
 *   loggers: { "": "info", "payment.db": "debug" },
 *   sources: { app: { type: "logger" } },
 *   sinks: { mem: { type: "memory" } },
 * });
 * const log = getLogger("payment.db");
 * await withContext({ request_id: "r-42" }, async () => {
 *   log.debug("query", { rows: 3 });
 * });
 * await shutdown();
 * ```
 *
 * @module
 */

export { Level, type LevelName, levelName, parseLevel } from "./src/core/levels.ts";
export {
  type CallSite,
  createRecord,
  type LogRecord,
  type SerializedError,
  serializeError,
} from "./src/core/record.ts";
export { type Fields, getLogger, Logger } from "./src/logger/logger.ts";
export { getContext, withContext } from "./src/logger/context.ts";
export { currentTrace, traceparent, withSpan } from "./src/logger/span.ts";
export { formatTraceparent, parseTraceparent, type TraceContext } from "./src/core/traceparent.ts";
export { configure, currentPipeline, flush, shutdown } from "./src/library/configure.ts";
export type { ConfigureOptions } from "./src/library/configure.ts";
export {
  loadConfig,
  type LoadedConfig,
  type LoadOptions,
  parseConfigText,
} from "./src/config/load.ts";
export { ConfigError, type ConfigProblem } from "./src/config/config_error.ts";
export {
  PluginSandbox,
  PluginSandboxError,
  type PluginSandboxOptions,
} from "./src/config/plugin_sandbox.ts";
export type {
  BufferConfig,
  ComponentConfig,
  DiskBufferConfig,
  LoggerConfig,
  ProcessorConfig,
  ResolvedConfig,
  ServerConfig,
  SinkConfig,
  WhenFull,
} from "./src/config/types.ts";
export { type ComponentHealth, Pipeline, type PipelineOptions } from "./src/pipeline/pipeline.ts";
export { type FormatterLookup } from "./src/plugin/types.ts";
export { Histogram, Metrics, Series } from "./src/pipeline/metrics.ts";
export { type DiskBufferStatus, type SinkStatus } from "./src/pipeline/sink_status.ts";
export type { Target } from "./src/pipeline/target.ts";
export {
  Tap,
  type TapFilter,
  TapFilterError,
  type TapHost,
  type TapKind,
  type TappedRecord,
  TapSubscription,
  type TapSubscriptionHooks,
} from "./src/pipeline/tap.ts";
export { DeliveryError } from "./src/plugin/delivery_error.ts";
export { definePlugin } from "./src/plugin/define_plugin.ts";
export { PluginError } from "./src/plugin/plugin_error.ts";
export type {
  ComponentOf,
  ContextOf,
  Counter,
  Created,
  Formatter,
  InternalLog,
  OptionsOf,
  PermissionContext,
  PluginContext,
  PluginDefinition,
  PluginKind,
  PluginPermissions,
  Processor,
  Route,
  Sink,
  Source,
  SourceContext,
} from "./src/plugin/types.ts";
export {
  type FormatterSpec,
  type Infer,
  type Issue,
  type JsonSchema,
  type JsonSchemaContext,
  type ObjectOptions,
  ObjectSchema,
  type ParseContext,
  type Path,
  s,
  Schema,
  type Secret,
  type Shape,
  type ShapeType,
} from "./src/schema/schema.ts";
export { memoryRecords } from "./plugins/sinks/memory.ts";
export {
  type RecentError,
  type RecentErrorState,
  StatsAggregator,
  type StatsAnalysis,
  type StatsHooks,
  type StatsSettings,
  type StatsState,
} from "./plugins/sinks/stats/stats_aggregator.ts";
export { StatsMergeError } from "./plugins/sinks/stats/stats_merge_error.ts";
export type { MessageCount } from "./plugins/sinks/stats/top_messages.ts";
export type { DistinctSlotState } from "./plugins/sinks/stats/windowed_distinct.ts";
export type { TopSlotState } from "./plugins/sinks/stats/windowed_top_messages.ts";
export { builtinLoaders, loadBuiltins } from "./plugins/mod.ts";
export { type PluginLoader, Registry } from "./src/plugin/registry.ts";

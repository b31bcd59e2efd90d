/**
 * The running pipeline: sources, processors and sinks wired by `inputs:`.
 *
 * @module
 */

import { JsonFieldsRecord } from "../core/json_fields_record.ts";
import { sinkInputs } from "../config/sink_inputs.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { PluginError } from "../plugin/plugin_error.ts";
import type {
  FormatterLookup,
  PluginContext,
  PluginDefinition,
  Processor,
  Route,
  Sink,
  Source,
} from "../plugin/types.ts";
import { createInternalLog } from "./internal_log.ts";
import { createConcealer } from "../core/conceal_values.ts";
import { Metrics } from "./metrics.ts";
import { SinkNode, type SinkNodeOptions } from "./sink_node.ts";
import type { SinkStatus } from "./sink_status.ts";
import type { Target } from "./target.ts";
import { join } from "node:path";
import { ProcessorNode } from "./processor_node.ts";
import { LiveSourceContext, type SourceEntry } from "./source_node.ts";
import { messageOf } from "../core/message_of.ts";
import { Tap } from "./tap.ts";

/** Options for {@linkcode Pipeline.create}. */
export interface PipelineOptions {
  /** Finds formatter plugins; the config loader supplies the registry plus loaded modules. */
  formatters: FormatterLookup;
  /**
   * Called once when `shutdown()` begins, before sources stop: `configure()` hands the loggers
   * to the last-resort output then, so no record logged afterwards vanishes.
   */
  onShutdown?: () => void;
}

/** Health of one component, as `/ready` reports it. */
export interface ComponentHealth {
  /** Component id. */
  id: string;
  /** Its kind. */
  kind: "source" | "sink";
  /** What is wrong. */
  problem: string;
}

/**
 * A running pipeline. Create it from a validated config with {@linkcode Pipeline.create},
 * then `start()` it; `flush()` drains with a deadline; `shutdown()` (or `await using`)
 * stops sources, drains sinks and disposes everything.
 */
export class Pipeline implements AsyncDisposable {
  /** Every counter and gauge of this pipeline. */
  readonly metrics: Metrics = new Metrics();
  /** When the pipeline was created (epoch ms). */
  readonly startedAt: number = Date.now();
  /** The config it runs. */
  readonly config: ResolvedConfig;
  /** Copies of the records flowing through, for `/live` (nothing on their path untapped). */
  readonly tap: Tap = new Tap(this.metrics);
  readonly #sinks = new Map<string, SinkNode>();
  readonly #liveSinks = new Map<string, Sink>();
  readonly #sources: SourceEntry[] = [];
  readonly #abort = new AbortController();
  readonly #log: ReturnType<typeof createInternalLog>;
  /** Names the variables whose values a diagnostic would show (they may be secrets). */
  readonly #conceal: (text: string) => string;
  /** Sources started and not yet stopped. */
  readonly #running = new Set<SourceEntry>();
  /** Sources stopped by `stopSources()`, which the shutdown does not stop again. */
  readonly #sourcesStopped = new Set<SourceEntry>();
  #stopped: Promise<void> | undefined;
  /** The drop totals last said on stderr. */
  #dropsSaid = "";
  readonly #onShutdown: (() => void) | undefined;

  private constructor(config: ResolvedConfig, onShutdown: (() => void) | undefined) {
    this.config = config;
    this.#onShutdown = onShutdown;
    this.#conceal = createConcealer(config.environment ?? []);
    this.#log = createInternalLog(this.metrics, undefined, this.#conceal);
    this.metrics.gaugeFn(
      "queue_depth",
      "Records waiting in a sink's queue.",
      () => [...this.#sinks.values()].map((s) => [{ component: s.id }, s.depth]),
    );
    this.metrics.gaugeFn(
      "queue_bytes",
      "Estimated bytes waiting in a sink's queue.",
      () => [...this.#sinks.values()].map((s) => [{ component: s.id }, s.queuedBytes]),
    );
    const disks = () =>
      [...this.#sinks.values()].flatMap((s) => {
        const disk = s.disk;
        return disk ? [[{ component: s.id }, disk] as const] : [];
      });
    this.metrics.gaugeFn(
      "buffer_bytes",
      "Bytes of a sink's disk buffer files.",
      () => disks().map(([labels, disk]) => [labels, disk.bytes]),
    );
    this.metrics.gaugeFn(
      "buffer_records",
      "Records in a sink's disk buffer not yet delivered.",
      () => disks().map(([labels, disk]) => [labels, disk.records]),
    );
    this.metrics.gaugeFn(
      "buffer_oldest_record_age_seconds",
      "Seconds since the oldest undelivered record of a sink's disk buffer was appended.",
      () => disks().map(([labels, disk]) => [labels, disk.oldestAge]),
    );
    this.metrics.gaugeFn(
      "uptime_seconds",
      "Seconds since the pipeline started.",
      () => [[{}, (Date.now() - this.startedAt) / 1000]],
    );
    this.metrics.gaugeFn(
      "memory_rss_bytes",
      "Resident set size of the process.",
      () => [[{}, Deno.memoryUsage().rss]],
    );
    this.metrics.gaugeFn(
      "memory_heap_used_bytes",
      "V8 heap in use.",
      () => [[{}, Deno.memoryUsage().heapUsed]],
    );
  }

  /**
   * Builds every component of a validated config. Sources are created but not started.
   * A component that fails to create throws a {@linkcode PluginError} naming it, after
   * disposing what was already created.
   */
  static async create(config: ResolvedConfig, options: PipelineOptions): Promise<Pipeline> {
    const pipeline = new Pipeline(config, options.onShutdown);
    try {
      await pipeline.#build(options);
    } catch (error) {
      await pipeline.shutdown(1000);
      throw pipeline.#concealed(error);
    }
    return pipeline;
  }

  /** Sink status by id. */
  get sinks(): ReadonlyMap<string, SinkStatus> {
    return this.#sinks;
  }

  /**
   * The analysis of every sink that answers one (the `stats` sinks), by sink id: what
   * `GET /stats` serves. Computed on each call.
   */
  stats(): Map<string, object> {
    const out = new Map<string, object>();
    for (const [id, sink] of this.#liveSinks) if (sink.stats) out.set(id, sink.stats());
    return out;
  }

  /** Routes every source serves on the Sluice server. */
  get routes(): Route[] {
    return this.#sources.flatMap((s) => s.source.routes ?? []);
  }

  /** Sluice's internal log for this pipeline. */
  get log(): PluginContext["log"] {
    return this.#log;
  }

  /**
   * Starts every source not started yet: after one failed to start, a second call starts it
   * and those after it (a reload retries once the previous pipeline freed its address).
   */
  async start(): Promise<void> {
    for (const entry of this.#sources) {
      if (this.#running.has(entry) || this.#sourcesStopped.has(entry)) continue;
      try {
        await entry.source.start();
        this.#running.add(entry);
      } catch (error) {
        throw this.#concealed(
          new PluginError(`Cannot start source "${entry.id}": ${messageOf(error)}`, {
            cause: error,
          }),
        );
      }
    }
  }

  /** `error` with no variable's value in its message (the CLI prints it). */
  #concealed(error: unknown): unknown {
    if (error instanceof Error) error.message = this.#conceal(error.message);
    return error;
  }

  /** Components that are failing or saturated, for `/ready`. */
  health(): ComponentHealth[] {
    const out: ComponentHealth[] = [];
    for (const sink of this.#sinks.values()) {
      const problem = sink.problem;
      if (problem) out.push({ id: sink.id, kind: "sink", problem: this.#conceal(problem) });
    }
    return out;
  }

  /**
   * Writes every queued record, retrying failing sinks until the deadline. Resolves `true`
   * when every sink is empty and flushed; records accepted before the call are then delivered.
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let ok = true;
    // Primaries first, so that what they hand to fallbacks is flushed too.
    for (const sink of this.#orderedSinks()) ok = (await sink.flush(deadline)) && ok;
    this.#reportDrops();
    return ok;
  }

  /**
   * Says the totals of `records_dropped_total` by component and reason on stderr, when they
   * changed since they were last said (flush() and shutdown() call it): a program that lost
   * records in a loop hears how many, not only that the first one went.
   */
  #reportDrops(): void {
    const byComponent = new Map<string, string[]>();
    for (const series of this.metrics.series("records_dropped_total")) {
      if (series.value === 0) continue;
      const id = series.labels.component ?? "";
      const kind = this.#sinks.has(id)
        ? "sink"
        : Object.hasOwn(this.config.processors, id)
        ? "processor"
        : "source";
      const key = `${kind} ${JSON.stringify(id)}`;
      const parts = byComponent.get(key) ?? [];
      parts.push(`${series.value} ${series.labels.reason}`);
      byComponent.set(key, parts);
    }
    const summary = [...byComponent].map(([key, parts]) => `${key} ${parts.join(", ")}`)
      .join("; ");
    if (summary === "" || summary === this.#dropsSaid) return;
    this.#dropsSaid = summary;
    this.#log.warn("drop_totals", `Records dropped so far: ${summary}`);
  }

  /** Writes what sync-capable sinks still hold, without awaiting (process exit). */
  drainAtExit(): number {
    let left = 0;
    for (const sink of this.#orderedSinks()) left += sink.drainAtExit();
    return left;
  }

  /**
   * Asks every sink that has files to close and reopen them (what SIGHUP does after an
   * outside logrotate). A sink that fails is counted and reported; the others still reopen.
   */
  reopen(): void {
    for (const [id, sink] of this.#liveSinks) {
      try {
        sink.reopen?.();
      } catch (error) {
        this.metrics.counter("component_errors_total", "Failed operations of a component.", {
          component: id,
          kind: "sink",
        }).inc();
        this.#log.warnOnce(`sink:${id}:reopen`, `Cannot reopen sink "${id}"`, error);
      }
    }
  }

  /** Stops sources, drains sinks until the deadline, disposes everything. Idempotent. */
  shutdown(timeoutMs = 10_000): Promise<void> {
    return this.#stopped ??= this.#shutdown(timeoutMs);
  }

  /**
   * Stops every source (they take no more records and free their addresses) while the sinks
   * go on delivering what they hold, until `shutdown()`: a reload hands the listeners over.
   */
  async stopSources(): Promise<void> {
    for (const entry of this.#sources) {
      if (entry.source === undefined || this.#sourcesStopped.has(entry)) continue;
      this.#sourcesStopped.add(entry);
      this.#running.delete(entry);
      try {
        await entry.source[Symbol.asyncDispose]();
      } catch (error) {
        this.#log.warnOnce(`source:${entry.id}:close`, `Cannot close source "${entry.id}"`, error);
      }
    }
  }

  /** Same as `shutdown()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.#onShutdown?.();
    this.tap.close();
    this.#abort.abort();
    for (const sink of this.#sinks.values()) sink.release();
    // A failed create() leaves the sources after the failing one uncreated.
    await this.stopSources();
    for (const sink of this.#orderedSinks()) await sink.close(deadline);
    this.#reportDrops();
  }

  /** Every sink after all the sinks that fall back to it (so their hand-offs are drained too). */
  #orderedSinks(): SinkNode[] {
    const sinks = [...this.#sinks.values()];
    const feeders = new Map<SinkNode, number>();
    for (const sink of sinks) {
      if (sink.fallback) feeders.set(sink.fallback, (feeders.get(sink.fallback) ?? 0) + 1);
    }
    const order = sinks.filter((s) => !feeders.has(s));
    for (let i = 0; i < order.length; i++) {
      const fallback = order[i]!.fallback;
      if (!fallback) continue;
      const left = feeders.get(fallback)! - 1;
      feeders.set(fallback, left);
      if (left === 0) order.push(fallback);
    }
    // Validation rejects fallback cycles; keep any sink not reached anyway.
    return order.length === sinks.length
      ? order
      : [...order, ...sinks.filter((s) => !order.includes(s))];
  }

  #context(id: string, kind: string, formatters: FormatterLookup): PluginContext {
    const metrics = this.metrics;
    const log = this.#log;
    const config = this.config;
    const signal = this.#abort.signal;
    const context: PluginContext = {
      id,
      baseDir: config.baseDir,
      dataDir: config.dataDir,
      log,
      signal,
      counter: (name, help, labels = {}) =>
        metrics.counter(name, help, { component: id, ...labels }),
      createFormatter(spec) {
        const definition = formatters(spec);
        if (!definition) {
          throw new PluginError(
            `Cannot create ${kind} "${id}": unknown formatter "${spec.module ?? spec.type}"`,
          );
        }
        const made = definition.create(spec.options as never, context);
        if (typeof made !== "function") {
          throw new PluginError(
            `Cannot create ${kind} "${id}": formatter "${spec.type}" did not return a function`,
          );
        }
        return made;
      },
    };
    return context;
  }

  async #build(options: PipelineOptions): Promise<void> {
    const config = this.config;
    const nodes = new Map<string, Target & { targets?: Target[] }>();

    for (const [id, sink] of Object.entries(config.sinks)) {
      const live = await create<Sink>(
        "sink",
        id,
        sink.definition,
        sink.options,
        this.#context(id, "sink", options.formatters),
      );
      this.#liveSinks.set(id, live);
      this.#sinks.set(
        id,
        createSinkNode(live, {
          id,
          level: sink.level,
          buffer: sink.buffer,
          fallbackAfter: sink.fallback_after,
          metrics: this.metrics,
          log: this.#log,
          diskDir: join(config.dataDir, "buffers", encodeURIComponent(id)),
        }),
      );
    }
    for (const [id, sink] of Object.entries(config.sinks)) {
      if (sink.fallback) this.#sinks.get(id)!.fallback = this.#sinks.get(sink.fallback);
    }

    const processors = new Map<string, ProcessorNode>();
    for (const [id, processor] of Object.entries(config.processors)) {
      const fn = await create<Processor>(
        "processor",
        id,
        processor.definition,
        processor.options,
        this.#context(id, "processor", options.formatters),
      );
      const labels = { component: id, kind: "processor" };
      const node = new ProcessorNode(id, fn, {
        in: this.metrics.counter("records_in_total", "Records accepted by a component.", labels),
        out: this.metrics.counter("records_out_total", "Records delivered by a component.", labels),
        filtered: this.metrics.counter(
          "records_filtered_total",
          "Records a processor filtered out.",
          { component: id },
        ),
        errors: this.metrics.counter(
          "component_errors_total",
          "Failed operations of a component.",
          labels,
        ),
      }, (error) => {
        this.metrics.counter("records_dropped_total", "Records dropped, by component and reason.", {
          component: id,
          reason: "processor_error",
        }).inc();
        this.#log.warnOnce(
          `processor:${id}`,
          `Processor "${id}" failed; its records are dropped`,
          error,
        );
      });
      processors.set(id, node);
      nodes.set(id, node);
    }

    for (const id of Object.keys(config.sources)) {
      const context = new LiveSourceContext(
        this.#context(id, "source", options.formatters),
        this.metrics,
        this,
      );
      this.#sources.push({ id, source: undefined as unknown as Source, context });
      nodes.set(id, context as unknown as Target & { targets: Target[] });
    }

    // Wire inputs: each consumer registers itself as a target of each input.
    for (const [id, processor] of Object.entries(config.processors)) {
      for (const input of processor.inputs) nodes.get(input)?.targets?.push(processors.get(id)!);
    }
    for (const id of Object.keys(config.sinks)) {
      for (const input of sinkInputs(config, id)) {
        nodes.get(input)?.targets?.push(this.#sinks.get(id)!);
      }
    }

    for (const entry of this.#sources) this.tap.addPoint(entry.id, "source", [entry.context]);
    for (const [id, node] of processors) this.tap.addPoint(id, "processor", [node]);
    for (const [id, sink] of this.#sinks) {
      const hosts = sinkInputs(config, id).flatMap((input) => {
        const host = nodes.get(input);
        return host?.targets ? [host as { targets: Target[] }] : [];
      });
      this.tap.addPoint(id, "sink", hosts, sink.level);
    }

    // Each source learns which sinks it can reach, for back-pressure and level gating.
    for (const entry of this.#sources) {
      const reach = new Set<SinkNode>();
      const walk = (targets: Target[]) => {
        for (const t of targets) {
          if (t instanceof SinkNode) reach.add(t);
          else if (t instanceof ProcessorNode) walk(t.targets);
        }
      };
      walk(entry.context.targets);
      entry.context.sinks = [...reach];
    }

    for (const entry of this.#sources) {
      const definition = config.sources[entry.id]!;
      entry.source = await create<Source>(
        "source",
        entry.id,
        definition.definition,
        definition.options,
        entry.context,
      );
    }
  }
}

async function create<T>(
  kind: string,
  id: string,
  definition: PluginDefinition,
  options: Record<string, unknown>,
  context: PluginContext,
): Promise<T> {
  try {
    return await definition.create(options as never, context as never) as T;
  } catch (error) {
    if (error instanceof PluginError) throw error;
    throw new PluginError(`Cannot create ${kind} "${id}": ${messageOf(error)}`, { cause: error });
  }
}

/** A sink node, or a PluginError naming the sink when its disk buffer cannot be opened. */
function createSinkNode(sink: Sink, options: SinkNodeOptions): SinkNode {
  try {
    const node = new SinkNode(sink, options);
    // Whether records may reach it with their fields still as JSON text (a disk frame reads
    // them; a source uses the fast JSON reader only when every target says so).
    if (!options.buffer.disk && JsonFieldsRecord.takesText(sink)) JsonFieldsRecord.mark(node);
    return node;
  } catch (error) {
    throw new PluginError(
      `Cannot create sink "${options.id}": cannot open its disk buffer in ${options.diskDir}: ${
        messageOf(error)
      }`,
      { cause: error },
    );
  }
}

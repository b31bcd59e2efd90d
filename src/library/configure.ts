/**
 * The process-wide pipeline behind `getLogger()`: `configure()`, `flush()`, `shutdown()`,
 * the default output before any configure, and the last-chance drain at exit.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { loadConfig, type LoadOptions } from "../config/load.ts";
import { Metrics } from "../pipeline/metrics.ts";
import { createInternalLog } from "../pipeline/internal_log.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { SinkNode } from "../pipeline/sink_node.ts";
import type { PluginContext, Sink } from "../plugin/types.ts";
import consoleSink from "../../plugins/sinks/console.ts";
import textFormatter from "../../plugins/formatters/text/mod.ts";
import { attachLogger, detachOwner } from "../logger/attach.ts";
import { manager } from "../logger/manager.ts";
import { messageOf } from "../core/message_of.ts";

let current: Pipeline | undefined;
let fallbackNode: SinkNode | undefined;
const DEFAULT_OWNER = {};
/**
 * `configure()` and `shutdown()` run one at a time, in call order. Overlapping calls would
 * let the pipeline that attached to the loggers first finish last and shut down the one the
 * loggers point at, dropping every later record.
 */
let queue: Promise<unknown> = Promise.resolve();
/**
 * The serialized call a piece of code runs inside, if any. A plugin that awaits `configure()`
 * or `shutdown()` in its `create()` or `start()` waits for the very call that waits for it; a
 * loop the plugin merely started may call them and simply wait its turn. The two cannot be
 * told apart when the call is made, so a call from inside another that is still waiting after
 * a few seconds is reported as the likely deadlock it is. The token goes inactive when the
 * outer call ends.
 */
const calling = new AsyncLocalStorage<{ name: string; active: boolean }>();
const STUCK_MS = 5_000;

function inOrder<T>(name: string, step: () => Promise<T>): Promise<T> {
  const outer = calling.getStore();
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  if (outer?.active) {
    const timer = setTimeout(() => {
      createInternalLog(new Metrics()).warnOnce(
        "reentrant",
        `${name}() was called from inside ${outer.name}() and has waited ${
          STUCK_MS / 1000
        } s for it: if ${outer.name}() is waiting for the caller (a plugin's create() or ` +
          `start() awaiting ${name}()), neither can finish; call ${name}() after ` +
          `${outer.name}() has resolved`,
      );
    }, STUCK_MS);
    Deno.unrefTimer(timer as unknown as number);
    watchdog = timer;
  }
  const token = { name, active: true };
  const run = queue.then(() => {
    clearTimeout(watchdog);
    return calling.run(token, step);
  }).finally(() => {
    token.active = false;
  });
  queue = run.catch(() => {});
  return run;
}

/** The context of the default and last-resort outputs, which belong to no pipeline. */
function outputContext(metrics: Metrics, log: PluginContext["log"]): PluginContext {
  const context: PluginContext = {
    id: "default",
    baseDir: Deno.cwd(),
    dataDir: Deno.cwd(),
    log,
    signal: new AbortController().signal,
    counter: (name, help, labels = {}) =>
      metrics.counter(name, help, { component: "default", ...labels }),
    createFormatter: () =>
      textFormatter.create({
        pattern: "{time} {level} {logger} - {message}{fields}",
        time_format: "iso",
        utc: true,
        datefmt: undefined,
        defaults: {},
      }, context),
  };
  return context;
}

/**
 * The output used before `configure()`: text lines on stderr at INFO, like Python's last
 * resort. Built synchronously on the first `getLogger()` so no early record is lost.
 */
function installDefault(): void {
  const metrics = new Metrics();
  const log = createInternalLog(metrics);
  const context = outputContext(metrics, log);
  // The console sink creates synchronously; its declared type allows a promise for other sinks.
  const sink = consoleSink.create(
    { stream: "stderr", color: "auto", format: { type: "text", options: {} } },
    context,
  ) as Sink;
  const node = new SinkNode(sink, {
    id: "default",
    level: 0,
    buffer: { max_records: 10_000, max_bytes: 8 * 1024 * 1024, when_full: "block" },
    fallbackAfter: 30_000,
    metrics,
    log,
  });
  fallbackNode = node;
  attachLogger({ name: "", push: (record) => node.push(record, true), minLevel: 0 }, DEFAULT_OWNER);
}

const LAST_RESORT_OWNER = {};
const encoder = new TextEncoder();

/**
 * The output once logging is shut down (Python's `lastResort`): each record written to stderr
 * at once, in the default output's text, after a notice that logging is shut down. There is
 * no pipeline left to queue for, and a record logged this late may be the last thing a
 * program says before it exits.
 */
function installLastResort(): void {
  const metrics = new Metrics();
  const log = createInternalLog(metrics);
  const format = outputContext(metrics, log).createFormatter({ type: "text", options: {} });
  let told = false;
  detachOwner(LAST_RESORT_OWNER);
  attachLogger({
    name: "",
    minLevel: 0,
    push(record) {
      if (!told) {
        told = true;
        log.warnOnce(
          "shut_down",
          "Logging is shut down: records logged after shutdown() are written to stderr " +
            "until the next configure()",
        );
      }
      const line = format(record);
      try {
        Deno.stderr.writeSync(
          typeof line === "string" ? encoder.encode(line + "\n") : line,
        );
      } catch {
        // stderr closed: nothing is left to write to.
      }
    },
  }, LAST_RESORT_OWNER);
}

manager.onFirstUse = installDefault;

globalThis.addEventListener("unload", () => {
  // Timers no longer run at exit: write synchronously whatever file and console sinks hold.
  // What asynchronous (or failing) sinks still hold cannot be written any more: say so.
  const left = current?.drainAtExit() ?? 0;
  if (left > 0 && current) {
    current.log.warnOnce(
      "exit",
      `${left} records still queued for asynchronous or failing sinks at exit are lost`,
    );
  }
  fallbackNode?.drainAtExit();
});

/**
 * Configures logging from a YAML file path or a config object, replacing the previous
 * pipeline without losing or duplicating a record: the new pipeline takes over the
 * loggers in one step, then the old one drains and closes. Resolves to the running
 * pipeline (`await using` shuts it down). Throws `ConfigError` listing every problem.
 * Calls run one at a time, in call order; one that a plugin's `create()` or `start()` awaits
 * would wait for the call that waits for it, and is reported on stderr after 5 s.
 *
 * @example Configure from an object
 * ```ts
 * import { configure, getLogger, memoryRecords, shutdown } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * await configure({
 *   sources: { app: { type: "logger" } },
 *   sinks: { mem: { type: "memory", level: "info" } },
 * });
 * getLogger("demo").info("hello", { user: "ada" });
 * await shutdown();
 * assert.ok(memoryRecords("mem").some((r) => r.message === "hello"));
 * ```
 */
export function configure(
  source: string | Record<string, unknown>,
  options: ConfigureOptions = {},
): Promise<Pipeline> {
  return inOrder("configure", () => configureNow(source, options));
}

/** Options of {@linkcode configure}: how to load the config, and how to take over. */
export interface ConfigureOptions extends LoadOptions {
  /**
   * When a source of the new pipeline cannot start because an address is in use (the previous
   * pipeline's source listens there), stop the previous pipeline's sources and start the rest
   * again; its sinks go on delivering. Without it such a configure() fails and the previous
   * pipeline runs on. `sluice run` reloads with it.
   */
  handOverListeners?: boolean;
  /**
   * Called once the new pipeline has started and taken over the loggers, before the previous
   * one drains and closes: `sluice run` points its server at the new pipeline here and waits
   * for the requests still being answered by the previous one.
   */
  beforeRetire?: (next: Pipeline, previous: Pipeline | undefined) => void | Promise<void>;
}

/** Whether `error` or one of its causes is an address already in use. */
function addressInUse(error: unknown): boolean {
  for (let e = error, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    if (e instanceof Deno.errors.AddrInUse) return true;
  }
  return false;
}

async function configureNow(
  source: string | Record<string, unknown>,
  options: ConfigureOptions,
): Promise<Pipeline> {
  const loaded = await loadConfig(source, options);
  let created: Pipeline | undefined;
  const next = created = await Pipeline.create(loaded.config, {
    formatters: loaded.formatters,
    // However the current pipeline is shut down (shutdown(), await using): from then on log
    // calls go to stderr. One that failed to build or start was never current.
    onShutdown: () => {
      if (created === undefined || current !== created) return;
      current = undefined;
      installLastResort();
    },
  });
  const previous = current;
  try {
    try {
      await next.start();
    } catch (error) {
      if (!options.handOverListeners || !previous || !addressInUse(error)) throw error;
      // What the previous pipeline's sources took is still delivered by its sinks.
      await previous.stopSources();
      try {
        await next.start();
      } catch (again) {
        throw new Error(
          `${messageOf(again)} (the previous pipeline's sources were stopped to free their ` +
            "addresses, and stay stopped; its sinks deliver what they hold)",
          { cause: again },
        );
      }
    }
  } catch (error) {
    await next.shutdown(1000);
    throw error;
  }
  manager.install(manager.attachments, loaded.config.loggers);
  current = next;
  // A config without a logger source: calls go nowhere by choice, at one comparison each.
  detachOwner(LAST_RESORT_OWNER);
  await options.beforeRetire?.(next, previous);
  if (previous) await previous.shutdown();
  if (fallbackNode) {
    // Still attached when the new config has no logger source: log calls then go nowhere,
    // at the cost of one comparison, instead of into a closed sink.
    detachOwner(DEFAULT_OWNER);
    const node = fallbackNode;
    fallbackNode = undefined;
    await node.close(Date.now() + 5_000);
  }
  return next;
}

/** The pipeline `configure()` installed, if any. */
export function currentPipeline(): Pipeline | undefined {
  return current;
}

/**
 * Writes every record logged so far, waiting at most `timeoutMs`. Resolves `true` when
 * everything was delivered.
 *
 * @example Flush before a checkpoint
 * ```ts
 * import { flush } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.ok(typeof (await flush()) === "boolean");
 * ```
 */
export async function flush(timeoutMs = 10_000): Promise<boolean> {
  if (current) return await current.flush(timeoutMs);
  if (fallbackNode) return await fallbackNode.flush(Date.now() + timeoutMs);
  return true;
}

/**
 * Drains and closes the configured pipeline (and the default output). Records logged later
 * are written to stderr as text, after a one-time notice that logging is shut down, until
 * the next `configure()`.
 *
 * @example Shut down at the end of a program
 * ```ts
 * import { shutdown } from "../../mod.ts";
 * await shutdown();
 * ```
 */
export function shutdown(timeoutMs = 10_000): Promise<void> {
  return inOrder("shutdown", () => shutdownNow(timeoutMs));
}

async function shutdownNow(timeoutMs: number): Promise<void> {
  // Its onShutdown hands the loggers to the last resort as the shutdown begins.
  if (current) await current.shutdown(timeoutMs);
  else installLastResort();
  if (fallbackNode) {
    const node = fallbackNode;
    fallbackNode = undefined;
    await node.close(Date.now() + timeoutMs);
  }
}

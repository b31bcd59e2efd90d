/**
 * `sluice run`'s SIGHUP: reload the config and swap pipelines without losing a record.
 *
 * @module
 */

import { loadConfig } from "../config/load.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { ConfigError } from "../config/config_error.ts";
import { describeError } from "../core/describe_error.ts";
import { beforeDeadline } from "../core/before_deadline.ts";
import { configure } from "../library/configure.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { ownLine } from "../pipeline/internal_log.ts";

/** What a server answers requests with: the app of the running pipeline. */
export interface Handler {
  fetch(request: Request, info?: unknown): Response | Promise<Response>;
}

/** A handler that counts the requests it is answering, to wait for them before a swap. */
class Tracked implements Handler {
  #open = 0;
  #idle: (() => void)[] = [];
  constructor(readonly app: Handler) {}
  async fetch(request: Request, info?: unknown): Promise<Response> {
    this.#open++;
    try {
      return await this.app.fetch(request, info);
    } finally {
      if (--this.#open === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
    }
  }
  /** Resolves once no request is being answered. */
  idle(): Promise<void> {
    return this.#open === 0 ? Promise.resolve() : new Promise((r) => this.#idle.push(r));
  }
}

/** The first sink with a disk buffer, which two pipelines must never open at once. */
function diskBuffered(config: ResolvedConfig): string | undefined {
  return Object.entries(config.sinks).find(([, sink]) => sink.buffer.disk !== undefined)?.[0];
}

/** Options of a {@linkcode Reloader}. */
export interface ReloaderOptions {
  /** The config file to read again. */
  file: string;
  /** Variables for `${VAR}` expansion. */
  env: Readonly<Record<string, string | undefined>>;
  /** The pipeline `sluice run` started. */
  pipeline: Pipeline;
  /** Builds the server app of a pipeline, when a server runs. */
  createApp?: (pipeline: Pipeline) => Handler;
  /** How long the swap waits for requests the previous pipeline is answering. */
  waitMs: number;
  /** Whether `--listen` set the server's address (a new `server.listen` is then moot). */
  listenOverridden?: boolean;
  /** Whether `module:` may name a remote module (`--allow-remote-modules`). */
  allowRemoteModules?: boolean;
}

/**
 * Holds the running pipeline and its server app, and replaces both on `reload()`: the file is
 * validated first (a bad file, or a plugin that cannot start, leaves the running pipeline as it
 * is, says why on stderr and reopens its files as a SIGHUP always did); then the new pipeline
 * starts (taking over the listening addresses of the previous one's sources if it must), the
 * server answers from its app, the requests the previous app is answering finish, and the
 * previous pipeline drains into its sinks and closes. Records the previous pipeline dropped
 * count toward the exit code. A config with a disk-buffered sink (before or after) is not
 * swapped: two pipelines must never share a buffer's files; a restart applies it.
 *
 * @example A reload that fails validation keeps the pipeline
 * ```ts
 * import { configure, shutdown } from "../../mod.ts";
 * import { Reloader } from "./reloader.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/sluice.yaml`;
 * await Deno.writeTextFile(file, "sinks:\n  mem: { type: memory }\n");
 * const pipeline = await configure(file);
 * const reloader = new Reloader({ file, env: {}, pipeline, waitMs: 1000 });
 * await Deno.writeTextFile(file, "sinks:\n  mem: { type: memroy }\n");
 * assert.equal(await reloader.reload(), false);
 * assert.equal(reloader.pipeline, pipeline);
 * await shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Reloader {
  /** The running pipeline. */
  pipeline: Pipeline;
  /** Records dropped by the pipelines reloads retired. */
  retiredDrops = 0;
  /** The address the server is bound to (`host:port`), once it listens. */
  serving: string | undefined;
  readonly #options: ReloaderOptions;
  #app: Tracked | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** Wraps the started pipeline. */
  constructor(options: ReloaderOptions) {
    this.#options = options;
    this.pipeline = options.pipeline;
    if (options.createApp) this.#app = new Tracked(options.createApp(options.pipeline));
  }

  /** What the server calls: the current pipeline's app. */
  readonly handler: Handler = {
    fetch: (request, info) => {
      if (!this.#app) return new Response(null, { status: 404 });
      return this.#app.fetch(request, info);
    },
  };

  /** Reloads after the reloads before it; resolves `true` when the new config runs. */
  reload(): Promise<boolean> {
    const run = this.#queue.then(() => this.#reload());
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Resolves once no reload is in progress. */
  settled(): Promise<void> {
    return this.#queue.then(() => {});
  }

  async #reload(): Promise<boolean> {
    const { file, env } = this.#options;
    const previous = this.pipeline;
    previous.log.info(`SIGHUP: reloading ${file}`);
    let loaded;
    try {
      loaded = await loadConfig(file, {
        env,
        requireFiles: true,
        allowRemoteModules: this.#options.allowRemoteModules ?? false,
      });
    } catch (error) {
      return this.#keep(error);
    }
    const disk = diskBuffered(previous.config) ?? diskBuffered(loaded.config);
    if (disk !== undefined) {
      return this.#keep(
        new Error(
          `sink "${disk}" has a disk buffer, whose files two pipelines must not share; ` +
            "restart sluice run to apply the new config",
        ),
      );
    }
    let next: Pipeline;
    try {
      next = await configure(file, {
        env,
        handOverListeners: true,
        beforeRetire: async (started) => {
          this.pipeline = started;
          const old = this.#app;
          if (!this.#options.createApp) return;
          this.#app = new Tracked(this.#options.createApp(started));
          // Requests the previous app is answering push into the previous pipeline: let them
          // finish before it drains, so each one acknowledged is delivered.
          if (old) {
            await beforeDeadline(old.idle(), Date.now() + this.#options.waitMs, undefined);
          }
        },
      });
    } catch (error) {
      return this.#keep(error);
    }
    this.retiredDrops += previous.metrics.sum("records_dropped_total");
    const before = previous.config.server;
    const after = next.config.server;
    const moved = before && after &&
      (before.hostname !== after.hostname || before.port !== after.port);
    if (moved && !this.#options.listenOverridden) {
      next.log.warnOnce(
        "run:reload:listen",
        `server.listen changed to ${after.hostname}:${after.port}; the server keeps ` +
          `${this.serving ?? `${before.hostname}:${before.port}`} until sluice run restarts`,
      );
    }
    next.log.info(`SIGHUP: reloaded ${file}`);
    return true;
  }

  /** Reports a reload that did not happen; the running pipeline reopens its files. */
  #keep(error: unknown): false {
    const why = error instanceof ConfigError
      ? error.message.split("\n").join("; ")
      : describeError(error);
    const pipeline = this.pipeline;
    // Said every time (each SIGHUP is a new attempt) and counted as Sluice's warnings are.
    pipeline.metrics.counter(
      "internal_warnings_total",
      "Problems Sluice reported about itself.",
      { key: "run:reload" },
    ).inc();
    console.error(
      ownLine(
        "WARN",
        `SIGHUP: ${this.#options.file} not reloaded, the running pipeline goes on: ${why}`,
      ),
    );
    try {
      pipeline.reopen();
    } catch (reopenError) {
      pipeline.log.warnOnce("run:reopen", "Cannot reopen files on SIGHUP", reopenError);
    }
    return false;
  }
}

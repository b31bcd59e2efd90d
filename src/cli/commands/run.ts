/**
 * `sluice run --config FILE`: the log agent.
 *
 * @module
 */

import { configure, shutdown } from "../../library/configure.ts";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import { parseDuration } from "../../schema/schema.ts";
import { createApp } from "../../server/app.ts";
import { type RunningServer, serve } from "../../server/serve.ts";
import type { Command } from "../command.ts";
import { parseFlags, requireConfig } from "../parse_flags.ts";
import { processEnv } from "../process_env.ts";
import { UsageError } from "../usage_error.ts";
import { messageOf } from "../../core/message_of.ts";
import { beforeDeadline } from "../../core/before_deadline.ts";

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;
/** A second SIGINT this long after the first exits without draining. */
const FORCE_AFTER_MS = 1000;

/** A pipeline that may reopen its files (rotation by an outside tool such as logrotate). */
interface Reopenable {
  reopen?: () => unknown;
}

/**
 * Listens for SIGINT and SIGTERM (resolving with the first one's name) and SIGHUP (which
 * asks the pipeline to reopen its files). A second SIGINT (a second Ctrl-C, more than a
 * second after the first) while draining exits at once with code 130. `remove()` takes the
 * listeners away.
 */
function listen(pipeline: Pipeline): { stopped: Promise<string>; remove(): void } {
  const added: [Deno.Signal, () => void][] = [];
  let stoppingSince = 0;
  const stopped = new Promise<string>((resolve) => {
    for (const name of STOP_SIGNALS) {
      added.push([name, () => {
        if (!stoppingSince) {
          stoppingSince = Date.now();
          resolve(name);
          return;
        }
        // Wrappers (npx, deno task, a terminal's process group) may deliver one signal twice:
        // only a later Ctrl-C means "stop now". A repeated SIGTERM never skips the drain.
        if (name === "SIGINT" && Date.now() - stoppingSince > FORCE_AFTER_MS) {
          pipeline.log.info("SIGINT again: exiting without waiting for the drain");
          Deno.exit(130);
        }
        pipeline.log.info(`${name}: already draining`);
      }]);
    }
  });
  added.push(["SIGHUP", () => {
    const reopen = (pipeline as Reopenable).reopen;
    if (typeof reopen !== "function") {
      pipeline.log.info("SIGHUP: nothing to reopen");
      return;
    }
    pipeline.log.info("SIGHUP: reopening files");
    Promise.resolve().then(() => reopen.call(pipeline)).catch((error) =>
      pipeline.log.warnOnce("run:reopen", "Cannot reopen files on SIGHUP", error)
    );
  }]);
  const installed: typeof added = [];
  for (const [signal, handler] of added) {
    try {
      Deno.addSignalListener(signal, handler);
      installed.push([signal, handler]);
    } catch {
      // Not every platform has every signal (Windows has no SIGTERM or SIGHUP).
    }
  }
  return {
    stopped,
    remove() {
      for (const [signal, handler] of installed) Deno.removeSignalListener(signal, handler);
    },
  };
}

/** The exit code when a drain lost records (any count in `records_dropped_total`). */
const EXIT_DROPPED = 3;
/** The exit code when nothing was lost but records wait in disk buffers for the next start. */
const EXIT_KEPT = 4;

/** 0 when the run delivered everything, else 3 or 4, said on stderr with the counts. */
function exitCode(pipeline: Pipeline): number {
  const dropped = pipeline.metrics.sum("records_dropped_total");
  let kept = 0;
  for (const sink of pipeline.sinks.values()) kept += sink.disk?.records ?? 0;
  if (dropped > 0) {
    pipeline.log.warnOnce(
      "run:exit",
      `Exiting with code ${EXIT_DROPPED}: ${dropped} records were dropped (see ` +
        `sluice_records_dropped_total)` +
        (kept > 0 ? `, and ${kept} wait undelivered in disk buffers` : ""),
    );
    return EXIT_DROPPED;
  }
  if (kept > 0) {
    pipeline.log.warnOnce(
      "run:exit",
      `Exiting with code ${EXIT_KEPT}: ${kept} records wait undelivered in disk buffers for ` +
        "the next start",
    );
    return EXIT_KEPT;
  }
  pipeline.log.info("Stopped");
  return 0;
}

/**
 * Loads the config, starts the pipeline (taking over in-process loggers), serves the
 * server section's app, and runs until SIGINT or SIGTERM. Then it stops accepting requests
 * (in-flight ones finish, so every acknowledged record is queued), drains every sink until
 * the `--drain-timeout` deadline (default 10s) and exits 0 when everything was delivered,
 * 3 when records were dropped during the run or at the drain, 4 when none were dropped but
 * some wait in disk buffers for the next start. SIGHUP makes the pipeline
 * reopen its files, when it supports that.
 *
 * @example Usage
 * ```ts
 * import run from "./run.ts";
 * import assert from "node:assert/strict";
 * assert.ok(run.usage?.startsWith("run --config FILE"));
 * ```
 */
const run: Command = {
  name: "run",
  summary: "Run a config's pipeline and server until SIGINT or SIGTERM, then drain",
  usage: "run --config FILE [--drain-timeout 10s]",
  help: [
    "Exit codes:",
    "  0    stopped by SIGINT or SIGTERM, every record delivered",
    "  1    a runtime error (cannot listen, a plugin failed to start)",
    "  2    a bad config or bad arguments",
    "  3    records were dropped during the run or left undelivered by the drain",
    "       (sluice_records_dropped_total, totals on stderr)",
    "  4    nothing dropped, but records wait in disk buffers for the next start",
    "  130  a second Ctrl-C exited without waiting for the drain",
  ].join("\n"),
  async run(args) {
    const { values } = parseFlags(args, {
      config: { type: "string", short: "c" },
      "drain-timeout": { type: "string" },
    });
    const file = requireConfig(values);
    const drainText = values["drain-timeout"] ?? "10s";
    const drainMs = parseDuration(drainText);
    if (drainMs === undefined) {
      throw new UsageError(
        `Invalid --drain-timeout "${String(drainText)}"; expected a duration such as 500ms or 10s`,
      );
    }
    const pipeline = await configure(file, { env: processEnv() });
    const signals = listen(pipeline);
    try {
      const server = pipeline.config.server;
      let http: RunningServer | undefined;
      if (server) {
        try {
          http = serve(createApp(pipeline), {
            hostname: server.hostname,
            port: server.port,
            log: pipeline.log,
            metrics: pipeline.metrics,
            authenticated: server.token !== undefined,
            limits: {
              maxConnections: server.max_connections,
              headerTimeout: server.header_timeout,
              bodyTimeout: server.body_timeout,
              idleTimeout: server.idle_timeout,
            },
          });
        } catch (error) {
          await shutdown(drainMs);
          throw new Error(
            `Cannot listen on ${server.hostname}:${server.port}: ${messageOf(error)}`,
            { cause: error },
          );
        }
      }
      const name = await signals.stopped;
      const deadline = Date.now() + drainMs;
      pipeline.log.info(`${name}: draining (deadline ${drainMs} ms)`);
      // Stop taking requests first: in-flight ones finish and their records are queued.
      // Live streams (sluice tap, top, the dashboard) never finish by themselves: end them.
      pipeline.tap.close();
      if (http) await beforeDeadline(http.shutdown(), deadline, undefined);
      await shutdown(Math.max(0, deadline - Date.now()));
      return exitCode(pipeline);
    } finally {
      signals.remove();
    }
  },
};

export default run;

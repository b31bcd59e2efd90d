/**
 * `sluice run --config FILE`: the log agent.
 *
 * @module
 */

import { configure, shutdown } from "../../library/configure.ts";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import { parseDuration } from "../../schema/schema.ts";
import { type RunningServer, serve } from "../../server/serve.ts";
import type { Command } from "../command.ts";
import { parseFlags, requireConfig } from "../parse_flags.ts";
import { processEnv } from "../process_env.ts";
import { UsageError } from "../usage_error.ts";
import { messageOf } from "../../core/message_of.ts";
import { beforeDeadline } from "../../core/before_deadline.ts";
import { splitListen } from "../../config/sections.ts";
import { setInternalLogFormat } from "../../pipeline/internal_log.ts";
import { Reloader } from "../reloader.ts";
import { UncaughtErrors, type UncaughtKind } from "../uncaught_errors.ts";
import { createConcealer } from "../../core/conceal_values.ts";

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;
/** A second SIGINT this long after the first exits without draining. */
const FORCE_AFTER_MS = 1000;

/**
 * Listens for SIGINT and SIGTERM (resolving with the first one's name) and SIGHUP (calling
 * `onHangup`). A second SIGINT (a second Ctrl-C, more than a second after the first) while
 * draining exits at once with code 130. `remove()` takes the listeners away.
 */
function listen(
  log: () => Pipeline["log"],
  onHangup: () => void,
): { stopped: Promise<string>; remove(): void } {
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
          log().info("SIGINT again: exiting without waiting for the drain");
          Deno.exit(130);
        }
        log().info(`${name}: already draining`);
      }]);
    }
  });
  added.push(["SIGHUP", onHangup]);
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

/** `--listen HOST:PORT` (as `server.listen` takes it) as a host and a port. */
function parseListen(text: string): { hostname: string; port: number } {
  const { hostname, port } = splitListen(text);
  if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(text) || port > 65535) {
    throw new UsageError(
      `Invalid --listen "${text}"; expected HOST:PORT such as 127.0.0.1:9600 or [::1]:9600`,
    );
  }
  return { hostname, port };
}

/** `--log-format`, else `SLUICE_LOG_FORMAT` (when readable), else text. */
function logFormat(flag: string | undefined): "text" | "json" {
  let value = flag;
  if (value === undefined) {
    const env = Deno.permissions.querySync({ name: "env", variable: "SLUICE_LOG_FORMAT" });
    if (env.state === "granted") value = Deno.env.get("SLUICE_LOG_FORMAT") || undefined;
  }
  if (value === undefined || value === "text" || value === "json") return value ?? "text";
  throw new UsageError(
    `Invalid ${flag === undefined ? "SLUICE_LOG_FORMAT" : "--log-format"} "${value}"; ` +
      "expected text or json",
  );
}

/** The exit code when a drain lost records (any count in `records_dropped_total`). */
const EXIT_DROPPED = 3;
/** The exit code when nothing was lost but records wait in disk buffers for the next start. */
const EXIT_KEPT = 4;

/** 0 when the run delivered everything, else 3 or 4, said on stderr with the counts. */
function exitCode(pipeline: Pipeline, droppedBefore: number): number {
  const dropped = droppedBefore + pipeline.metrics.sum("records_dropped_total");
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
 * some wait in disk buffers for the next start, 5 instead of 0 after an error nothing caught
 * (counted in `sluice_uncaught_errors_total{kind}`, said once with its stack). SIGHUP reloads the config
 * ({@linkcode Reloader}): validated first, swapped without losing a record, or kept (and
 * its files reopened) with the reason on stderr.
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
  usage:
    "run --config FILE [--listen HOST:PORT] [--log-format text|json] [--drain-timeout 10s] [--allow-remote-modules]",
  help: [
    "Options:",
    "  --config, -c FILE    the config; without it SLUICE_CONFIG, else ./sluice.yaml, else",
    "                       /etc/sluice/sluice.yaml",
    "  --listen HOST:PORT   the server's address instead of server.listen (starts the",
    "                       server when the config has no server section)",
    "  --log-format FORMAT  Sluice's own lines on stderr as text (default) or json, one",
    "                       object a line; also SLUICE_LOG_FORMAT",
    "  --drain-timeout DUR  how long the drain after SIGINT or SIGTERM may take (10s)",
    "  --allow-remote-modules",
    "                       let module: name a remote module (https:, npm:, jsr: …),",
    "                       which is fetched and run; as check and permissions do",
    "",
    "SIGHUP reloads the config: a bad file (or a plugin that cannot start) keeps the",
    "running pipeline and says why; files are reopened either way.",
    "",
    "Exit codes:",
    "  0    stopped by SIGINT or SIGTERM, every record delivered",
    "  1    a runtime error (cannot listen, a plugin failed to start)",
    "  2    a bad config or bad arguments",
    "  3    records were dropped during the run or left undelivered by the drain",
    "       (sluice_records_dropped_total, totals on stderr)",
    "  4    nothing dropped, but records wait in disk buffers for the next start",
    "  5    otherwise 0, but an error nothing caught happened (a bug, likely in a plugin;",
    "       the run went on): its stack is on stderr, sluice_uncaught_errors_total{kind}",
    "  130  a second Ctrl-C exited without waiting for the drain",
  ].join("\n"),
  async run(args) {
    const { values } = parseFlags(args, {
      config: { type: "string", short: "c" },
      "drain-timeout": { type: "string" },
      listen: { type: "string" },
      "log-format": { type: "string" },
      "allow-remote-modules": { type: "boolean" },
    });
    const allowRemoteModules = values["allow-remote-modules"] === true;
    setInternalLogFormat(logFormat(values["log-format"] as string | undefined));
    const listenFlag = values.listen as string | undefined;
    const address = listenFlag === undefined ? undefined : parseListen(listenFlag);
    const file = requireConfig(values);
    const drainText = values["drain-timeout"] ?? "10s";
    const drainMs = parseDuration(drainText);
    if (drainMs === undefined) {
      throw new UsageError(
        `Invalid --drain-timeout "${String(drainText)}"; expected a duration such as 500ms or 10s`,
      );
    }
    const env = processEnv();
    const pipeline = await configure(file, { env, requireFiles: true, allowRemoteModules });
    const configured = pipeline.config.server;
    // Hono loads only when a server starts (the agent without one never pays for it).
    const server = configured || address ? await import("../../server/app.ts") : undefined;
    const reloader = new Reloader({
      file,
      env,
      pipeline,
      waitMs: drainMs,
      listenOverridden: address !== undefined,
      allowRemoteModules,
      ...(server ? { createApp: (p: Pipeline) => server.createApp(p) } : {}),
    });
    const signals = listen(() => reloader.pipeline.log, () => void reloader.reload());
    const uncaught = UncaughtErrors.process;
    const countUncaught = (kind: UncaughtKind) =>
      reloader.pipeline.metrics.counter(
        "uncaught_errors_total",
        "Errors nothing caught (thrown from a callback, a rejection nobody handled): bugs; the run exits 5.",
        { kind },
      );
    for (const kind of ["callback", "rejection"] as const) countUncaught(kind);
    uncaught.onError = (kind) => countUncaught(kind).inc();
    uncaught.conceal = (text) => createConcealer(reloader.pipeline.config.environment ?? [])(text);
    try {
      let http: RunningServer | undefined;
      if (server) {
        const settings = { ...(configured ?? server.DEFAULT_SERVER), ...address };
        try {
          http = serve(reloader.handler, {
            hostname: settings.hostname,
            port: settings.port,
            // The running pipeline's, also after a reload.
            log: {
              warnOnce: (key, message, error) =>
                reloader.pipeline.log.warnOnce(key, message, error),
              info: (message) => reloader.pipeline.log.info(message),
            },
            metrics: {
              counter: (name, help, labels) =>
                reloader.pipeline.metrics.counter(name, help, labels),
            },
            authenticated: settings.token !== undefined,
            limits: {
              maxConnections: settings.max_connections,
              headerTimeout: settings.header_timeout,
              bodyTimeout: settings.body_timeout,
              idleTimeout: settings.idle_timeout,
            },
          });
          reloader.serving = `${http.addr.hostname}:${http.addr.port}`;
        } catch (error) {
          await shutdown(drainMs);
          throw new Error(
            `Cannot listen on ${settings.hostname}:${settings.port}: ${messageOf(error)}`,
            { cause: error },
          );
        }
      }
      const name = await signals.stopped;
      const deadline = Date.now() + drainMs;
      // A reload under way finishes first (its previous pipeline drains within its own time).
      await reloader.settled();
      const current = reloader.pipeline;
      current.log.info(`${name}: draining (deadline ${drainMs} ms)`);
      // Stop taking requests first: in-flight ones finish and their records are queued.
      // Live streams (sluice tap, top, the dashboard) never finish by themselves: end them.
      current.tap.close();
      if (http) await beforeDeadline(http.shutdown(), deadline, undefined);
      await shutdown(Math.max(0, deadline - Date.now()));
      return exitCode(current, reloader.retiredDrops);
    } finally {
      signals.remove();
      uncaught.onError = undefined;
    }
  },
};

export default run;

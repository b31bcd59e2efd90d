/**
 * What two components cannot share, found at check time: a listening port, an output file;
 * and an output path that is a directory.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Issue } from "../schema/schema.ts";
import type { ResolvedConfig } from "./types.ts";

/** Sink types whose `path` option is a file they write (and no other sink may). */
const FILE_SINKS = new Set(["file", "rotating_file", "sqlite"]);
const WILDCARDS = new Set(["0.0.0.0", "::"]);

/**
 * Reports two sources listening on one port of one transport (or one on a wildcard address
 * and one on a specific address of that port), a source on the server's port, two sinks
 * writing one file, and a sink's file path that is a directory. Each is an issue at the
 * second component's key, naming the first; `run` would fail on them only after starting.
 * Looks at the file system (a `stat`) and changes nothing.
 *
 * @example Two tcp sources on one port
 * ```ts
 * import { loadConfig } from "./load.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(
 *   loadConfig({
 *     sources: {
 *       a: { type: "tcp", address: "127.0.0.1:9400" },
 *       b: { type: "tcp", address: "0.0.0.0:9400" },
 *     },
 *     sinks: { out: { type: "memory" } },
 *   }),
 *   /Source "b" listens on tcp port 9400, as source "a" does/,
 * );
 * ```
 */
export function reportClashes(config: ResolvedConfig, issues: Issue[]): void {
  const listeners: { id: string; transport: string; hostname: string; port: number }[] = [];
  if (config.server && config.server.port !== 0) {
    listeners.push({ id: "", transport: "tcp", ...config.server });
  }
  for (const [id, source] of Object.entries(config.sources)) {
    const address = source.options.address as { hostname?: unknown; port?: unknown } | undefined;
    if (typeof address?.hostname !== "string" || typeof address.port !== "number") continue;
    if (address.port === 0) continue;
    const protocol = source.options.protocol;
    const transport = typeof protocol === "string"
      ? protocol
      : source.type === "udp"
      ? "udp"
      : "tcp";
    const mine = { id, transport, hostname: address.hostname, port: address.port };
    const other = listeners.find((l) =>
      l.transport === mine.transport && l.port === mine.port &&
      (l.hostname === mine.hostname || WILDCARDS.has(l.hostname) || WILDCARDS.has(mine.hostname))
    );
    if (other) {
      issues.push({
        path: ["sources", id, "address"],
        message: `Source "${id}" listens on ${transport} port ${mine.port}, as ${
          other.id === "" ? "the server (server.listen)" : `source "${other.id}"`
        } does; only one of them could bind it`,
        hint: "give each listener its own port",
      });
    } else listeners.push(mine);
  }
  const files = new Map<string, string>();
  for (const [id, sink] of Object.entries(config.sinks)) {
    if (!FILE_SINKS.has(sink.type) || typeof sink.options.path !== "string") continue;
    const path = resolve(config.baseDir, sink.options.path);
    const first = files.get(path);
    if (first !== undefined) {
      issues.push({
        path: ["sinks", id, "path"],
        message:
          `Sink "${id}" writes the file of sink "${first}"; two sinks in one file interleave and rotate each other's records`,
        hint: "give each sink its own path, or send both inputs to one sink",
      });
      continue;
    }
    files.set(path, id);
    let directory = false;
    try {
      directory = Deno.statSync(path).isDirectory;
    } catch {
      // Absent (created at run) or unreadable (run reports it): nothing to say here.
    }
    if (directory) {
      issues.push({
        path: ["sinks", id, "path"],
        message: `Sink "${id}" writes to ${path}, which is a directory`,
        hint: "name a file, such as app.log inside it",
      });
    }
  }
}

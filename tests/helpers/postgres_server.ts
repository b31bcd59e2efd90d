/**
 * A scratch PostgreSQL cluster for tests: `initdb` and `postgres` from Debian's
 * `postgresql` package, run as `nobody` (PostgreSQL refuses to run as root) through
 * `setpriv`, on a free loopback port, in a temp directory that `stop()` removes.
 *
 * @module
 */

import { findPeer, type Peer } from "./peers.ts";

/** Where Debian puts the server binaries (the newest installed major version). */
function binDir(): string {
  for (const version of ["17", "16", "15", "14", "13"]) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    try {
      Deno.statSync(`${dir}/initdb`);
      return dir;
    } catch { /* not this version */ }
  }
  return "/usr/lib/postgresql/15/bin";
}

/** Debian's PostgreSQL server binaries (and `setpriv` when running as root). */
export function postgresPeer(): Peer {
  const peer = findPeer(
    `${binDir()}/postgres`,
    ["--version"],
    "install it with: apt-get install -y postgresql",
  );
  if (!peer.available || Deno.uid() !== 0) return peer;
  return findPeer("setpriv", ["--version"], "install util-linux for setpriv");
}

/** A running scratch cluster. */
export interface PostgresServer {
  /** `postgres://sluice@127.0.0.1:PORT/postgres`. */
  url: string;
  /** Its port. */
  port: number;
  /** Its log so far. */
  log(): string;
  /** Kills it with SIGKILL (its data stays) and waits. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (after `kill`). */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

function asUnprivileged(command: string, args: string[]): { command: string; args: string[] } {
  if (Deno.uid() !== 0) return { command, args };
  return {
    command: "setpriv",
    args: ["--reuid=nobody", "--regid=nogroup", "--clear-groups", command, ...args],
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Creates and starts a cluster with user `sluice` (trust authentication on loopback).
 * `durable: false` (the default, for tests) turns fsync off; benchmarks keep it on.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresServer> {
  const bin = binDir();
  const dir = await Deno.makeTempDir({ prefix: "sluice-pg-" });
  if (Deno.uid() === 0) await Deno.chown(dir, 65534, 65534);
  const data = `${dir}/data`;
  const init = asUnprivileged(`${bin}/initdb`, [
    "-D",
    data,
    "-U",
    "sluice",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
    "--no-instructions",
  ]);
  const out = await new Deno.Command(init.command, {
    args: init.args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`initdb failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  let log = "";
  let reading: Promise<void> = Promise.resolve();
  const launch = async () => {
    log = "";
    const run = asUnprivileged(`${bin}/postgres`, [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `fsync=${options.durable ? "on" : "off"}`,
      "-c",
      "max_connections=50",
    ]);
    const current = new Deno.Command(run.command, {
      args: run.args,
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    child = current;
    const decoder = new TextDecoder();
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => ready = resolve);
    reading = (async () => {
      for await (const chunk of current.stderr) {
        log += decoder.decode(chunk, { stream: true });
        if (log.includes("ready to accept connections")) ready();
      }
    })();
    const exited = current.status.then((s) => {
      throw new Error(`postgres exited with ${s.code}:\n${log}`);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`postgres not ready in 20 s:\n${log}`)), 20_000);
    });
    try {
      await Promise.race([isReady, exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await launch();
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  const kill = async (signal: Deno.Signal = "SIGKILL") => {
    if (!child) return;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
    await reading;
    child = undefined;
  };
  return {
    url: `postgres://sluice@127.0.0.1:${port}/postgres`,
    port,
    log: () => log,
    kill: () => kill("SIGKILL"),
    restart: launch,
    async stop() {
      // SIGINT: fast shutdown (SIGTERM waits for clients to leave).
      await kill("SIGINT");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

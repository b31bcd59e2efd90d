/**
 * A real rsyslogd for tests: started in the foreground with a config the test writes, in its
 * own temporary directory (config, pid file, work directory, output files), and stopped by
 * the test.
 *
 * @module
 */

import { findPeer, type Peer } from "./peers.ts";

/** Where Debian's rsyslog package installs the daemon. */
export const RSYSLOGD = "/usr/sbin/rsyslogd";

/** rsyslogd, if installed (`apt-get install -y rsyslog`). */
export function rsyslogd(): Peer {
  return findPeer(RSYSLOGD, ["-v"], "install it with: apt-get install -y rsyslog");
}

/** A running rsyslogd. */
export interface Rsyslog extends AsyncDisposable {
  /** Its temporary directory: put output files here. */
  readonly dir: string;
  /** Lines of an output file in `dir` (empty when it does not exist yet). */
  lines(file: string): Promise<string[]>;
  /** What rsyslogd printed (for failure messages). */
  output(): string;
  /** Stops rsyslogd (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Writes `config(dir)` to `dir/rsyslog.conf` (a `global(workDirectory=…)` line is added) and
 * runs `rsyslogd -n -f conf -i pidfile`. Resolves once rsyslogd wrote its pid file and every
 * TCP port in `tcpPorts` accepts connections. Throws with rsyslogd's output when it exits early.
 */
export async function startRsyslog(
  config: (dir: string) => string,
  tcpPorts: readonly number[] = [],
): Promise<Rsyslog> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-rsyslog-" });
  await Deno.mkdir(`${dir}/work`);
  const conf = `${dir}/rsyslog.conf`;
  const pidfile = `${dir}/rsyslogd.pid`;
  await Deno.writeTextFile(
    conf,
    `global(workDirectory="${dir}/work" maxMessageSize="64k")\n${config(dir)}\n`,
  );
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(RSYSLOGD, {
      args: ["-n", "-f", conf, "-i", pidfile],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(
      `Cannot start ${RSYSLOGD}: ${(error as Error).message} (apt-get install -y rsyslog)`,
    );
  }
  let text = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const collecting = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, 5000);
      await status;
      clearTimeout(timer);
    }
    await collecting;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (exited) throw new Error(`rsyslogd exited during startup:\n${text}`);
      if (Date.now() > deadline) throw new Error(`rsyslogd did not start in 15 s:\n${text}`);
      if (await ready(pidfile, tcpPorts)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    dir,
    async lines(file: string) {
      let content: string;
      try {
        content = await Deno.readTextFile(`${dir}/${file}`);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return [];
        throw error;
      }
      const lines = content.split("\n");
      if (lines.at(-1) === "") lines.pop();
      return lines;
    },
    output: () => text,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function ready(pidfile: string, ports: readonly number[]): Promise<boolean> {
  try {
    await Deno.stat(pidfile);
  } catch {
    return false;
  }
  for (const port of ports) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
    } catch {
      return false;
    }
  }
  return true;
}

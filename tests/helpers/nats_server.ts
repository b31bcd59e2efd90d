/**
 * Real `nats-server` processes with JetStream for tests: one node, or a cluster on loopback
 * ports. Each node keeps its store in a temp directory removed by `stop()`.
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { findPeer, type Peer } from "./peers.ts";

/** Debian's `nats-server` (2.9, JetStream built in). */
export function natsServerPeer(): Peer {
  return findPeer("nats-server", ["--version"], "install it with: apt-get install -y nats-server");
}

/** A free loopback TCP port (bound and released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** One running node. */
export interface NatsNode {
  /** `nats://127.0.0.1:PORT`. */
  url: string;
  /** Its client port. */
  port: number;
  /** Its log so far. */
  log(): string;
  /** Kills it with `signal` (SIGKILL by default) and waits for the exit; its store stays. */
  kill(signal?: Deno.Signal): Promise<void>;
  /** Starts it again on the same ports and store (after `kill`). */
  restart(): Promise<void>;
  /** Stops it and removes its store. */
  stop(): Promise<void>;
}

interface NodeSpec {
  name: string;
  port: number;
  clusterPort?: number;
  routes?: number[];
}

async function startNode(spec: NodeSpec, extra: string): Promise<NatsNode> {
  const dir = await Deno.makeTempDir({ prefix: `sluice-nats-${spec.name}-` });
  const conf = `${dir}/nats.conf`;
  const cluster = spec.clusterPort === undefined ? "" : `
cluster {
  name: sluice_test
  listen: 127.0.0.1:${spec.clusterPort}
  routes: [${(spec.routes ?? []).map((p) => `nats-route://127.0.0.1:${p}`).join(", ")}]
}`;
  await Deno.writeTextFile(
    conf,
    `server_name: ${spec.name}
listen: 127.0.0.1:${spec.port}
jetstream { store_dir: "${dir}/store" }
${cluster}
${extra}
`,
  );
  let child: Deno.ChildProcess | undefined;
  let log = "";
  let reading: Promise<void> = Promise.resolve();
  const launch = async () => {
    log = "";
    child = new Deno.Command("nats-server", {
      args: ["-c", conf],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => ready = resolve);
    const current = child;
    reading = (async () => {
      for await (const chunk of current.stderr) {
        log += decoder.decode(chunk, { stream: true });
        if (log.includes("Server is ready")) ready();
      }
    })();
    const exited = current.status.then((s) => {
      throw new Error(`nats-server ${spec.name} exited with ${s.code}:\n${log}`);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`nats-server ${spec.name} not ready in 10 s:\n${log}`)),
        10_000,
      );
    });
    try {
      await Promise.race([isReady, exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  await launch();
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
    url: `nats://127.0.0.1:${spec.port}`,
    port: spec.port,
    log: () => log,
    kill,
    restart: launch,
    async stop() {
      await kill("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Starts one JetStream node on `port` (default a free one) of 127.0.0.1; `extra` is appended
 * to its config.
 */
export function startNats(extra = "", port = freePort()): Promise<NatsNode> {
  return startNode({ name: "n1", port }, extra);
}

/**
 * Starts `size` JetStream nodes clustered on loopback and resolves once the cluster can
 * create a stream of `size` replicas.
 */
export async function startNatsCluster(size = 3): Promise<NatsNode[]> {
  const ports = Array.from({ length: size }, () => freePort());
  const clusterPorts = Array.from({ length: size }, () => freePort());
  const nodes = await Promise.all(ports.map((port, i) =>
    startNode({
      name: `n${i + 1}`,
      port,
      clusterPort: clusterPorts[i]!,
      routes: clusterPorts.filter((_, j) => j !== i),
    }, "")
  ));
  try {
    await waitForReplicas(nodes.map((n) => n.url), size);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return nodes;
}

/** Waits until a stream with `replicas` copies can be created (a meta leader, enough peers). */
export async function waitForReplicas(servers: string[], replicas: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  const nc = await connect({ servers });
  try {
    for (;;) {
      try {
        // Fails too (no JetStream account info) until the cluster has a meta leader.
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        await jsm.streams.add({ name: "PROBE", subjects: ["probe.>"], num_replicas: replicas });
        await jsm.streams.delete("PROBE");
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } finally {
    await nc.close();
  }
}

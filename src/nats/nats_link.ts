/**
 * A NATS connection that is made in the background and kept: the first attempt is awaited
 * by the component's `create()`, later attempts back off, and once connected the client
 * reconnects on its own (to any server of the cluster) for as long as the component lives.
 *
 * @module
 */

import { resolve } from "node:path";
import type {
  NatsApi,
  NatsAuthenticator,
  NatsConnection,
  NatsConnectionOptions,
} from "./nats_api.ts";
import type { InternalLog } from "../plugin/types.ts";
import type { NatsOptions } from "./nats_options.ts";
import { StreamMismatchError } from "./nats_stream.ts";
import { guardStraySocketErrors } from "./stray_socket_errors.ts";

/** First delay after a failed connection attempt; doubled up to `MAX_BACKOFF`. */
const INITIAL_BACKOFF = 250;
const MAX_BACKOFF = 10_000;
/** One connection attempt gives up after this long (a black-holed address). */
const CONNECT_TIMEOUT = 5_000;

/** What the component does once connected (create or check the stream, bind the consumer). */
export type Prepare = (connection: NatsConnection) => Promise<void>;

/**
 * Reads the credential files and secrets into the client's connection options; `nats` is the
 * loaded client (`loadNats()`), for its authenticators.
 */
export function connectionOptions(
  nats: Pick<NatsApi, "credsAuthenticator" | "nkeyAuthenticator">,
  options: NatsOptions,
  id: string,
  baseDir: string,
): NatsConnectionOptions {
  const read = (file: string) => Deno.readTextFileSync(resolve(baseDir, file)).trim();
  const auth = options.auth ?? {} as NonNullable<NatsOptions["auth"]>;
  const tls = options.tls;
  const out: NatsConnectionOptions = {
    servers: options.servers,
    name: options.name ?? `sluice-${id}`,
    timeout: CONNECT_TIMEOUT,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: INITIAL_BACKOFF * 2,
    reconnectJitter: INITIAL_BACKOFF,
    // The default 1 minute: a dead peer behind a silent network is found within two pings.
    pingInterval: 20_000,
  };
  const token = auth.token?.value ?? (auth.token_file ? read(auth.token_file) : undefined);
  if (token !== undefined) out.token = token;
  if (auth.user !== undefined) {
    out.user = auth.user;
    const pass = auth.password?.value ??
      (auth.password_file ? read(auth.password_file) : undefined);
    if (pass !== undefined) out.pass = pass;
  }
  let authenticator: NatsAuthenticator | undefined;
  if (auth.creds_file) {
    authenticator = nats.credsAuthenticator(Deno.readFileSync(resolve(baseDir, auth.creds_file)));
  } else if (auth.nkey_file) {
    authenticator = nats.nkeyAuthenticator(new TextEncoder().encode(read(auth.nkey_file)));
  }
  if (authenticator) out.authenticator = authenticator;
  if (tls) {
    const address = ipAddressOf(options.servers);
    out.tls = {
      ...(tls.ca_file ? { caFile: resolve(baseDir, tls.ca_file) } : {}),
      ...(tls.cert_file ? { certFile: resolve(baseDir, tls.cert_file) } : {}),
      ...(tls.key_file ? { keyFile: resolve(baseDir, tls.key_file) } : {}),
      // The client sends no server name for an IP address, and Deno's node:tls then checks
      // the certificate against "localhost" (Node falls back to the socket's host): tested
      // against nats-server with a certificate for IP 127.0.0.1, refused without this.
      ...(address ? { host: address } : {}),
    };
  }
  return out;
}

/** The one IP address all `servers` name, if they name no host name and one address. */
function ipAddressOf(servers: readonly string[]): string | undefined {
  const hosts = new Set(
    servers.map((server) => new URL(server.includes("://") ? server : `nats://${server}`).hostname),
  );
  if (hosts.size !== 1) return undefined;
  const [host] = [...hosts] as [string];
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : /^\[(.+)\]$/.exec(host)?.[1];
}

/** A kept NATS connection (see the module). */
export class NatsLink implements AsyncDisposable {
  /** The connection once made and prepared. */
  connection: NatsConnection | undefined;
  /** Why the component cannot work at all (a stream of other settings), once found. */
  fatal: Error | undefined;
  /** Resolves after the first attempt, connected or not. */
  readonly firstAttempt: Promise<void>;
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #running: Promise<void>;

  constructor(
    private readonly nats: Pick<NatsApi, "connect">,
    private readonly options: NatsConnectionOptions,
    private readonly what: string,
    private readonly log: InternalLog,
    private readonly prepare: Prepare,
  ) {
    guardStraySocketErrors(log);
    let first!: () => void;
    this.firstAttempt = new Promise((resolve) => first = resolve);
    this.#running = this.#run(first);
  }

  async #run(first: () => void): Promise<void> {
    let delay = INITIAL_BACKOFF;
    const servers = [this.options.servers].flat().join(", ");
    while (!this.#closed) {
      let nc: NatsConnection | undefined;
      try {
        nc = await this.nats.connect(this.options);
        await this.prepare(nc);
        if (this.#closed) {
          await nc.close();
          break;
        }
        this.connection = nc;
        this.log.info(`${this.what} connected to NATS at ${nc.getServer()}`);
        first();
        this.#watch(nc);
        await nc.closed();
        if (!this.#closed) {
          // Only a permission or auth change ends a connection that reconnects forever.
          this.log.warnOnce(`${this.what}:closed`, `${this.what}: the NATS connection closed`);
          this.connection = undefined;
          continue;
        }
        return;
      } catch (error) {
        await nc?.close().catch(() => {});
        if (error instanceof StreamMismatchError) {
          this.fatal = error;
          this.log.warnOnce(`${this.what}:fatal`, `${this.what}: ${error.message}`);
          first();
          return;
        }
        this.log.warnOnce(
          `${this.what}:connect`,
          `${this.what} cannot connect to NATS at ${servers}; retrying with back-off up to ${
            MAX_BACKOFF / 1000
          } s`,
          error,
        );
        first();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay * (0.5 + Math.random() / 2));
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay = Math.min(delay * 2, MAX_BACKOFF);
      }
    }
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.log.warnOnce(
          `${this.what}:disconnect`,
          `${this.what} lost its NATS server ${status.server}; reconnecting`,
        );
      } else if (status.type === "reconnect") {
        this.log.info(`${this.what} reconnected to NATS at ${status.server}`);
      }
    }
  }

  /** Closes the connection after flushing what it has to send (acks, publishes). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    const nc = this.connection;
    this.connection = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    await this.#running;
  }
}

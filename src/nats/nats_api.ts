/**
 * The NATS client, loaded when a `nats` sink or source is created. The part of the
 * `@nats-io/transport-node` and `@nats-io/jetstream` APIs Sluice uses is described here
 * instead of imported: even a type-only import of an `npm:` specifier puts the package in
 * mod.ts's module graph (`deno info mod.ts`). tests/package/npm_api_types_test.ts checks the
 * real packages against these types.
 *
 * @module
 */

import { importNpm } from "../core/import_npm.ts";

/**
 * Answers the server's challenge (credentials or an nkey seed); what it returns is for the
 * client only.
 */
export type NatsAuthenticator = (nonce?: string) => void;

/** The TLS files of a connection (`host`: the name the certificate is checked against). */
export interface NatsTlsOptions {
  /** The CA certificate file. */
  caFile?: string;
  /** The client certificate file. */
  certFile?: string;
  /** The client key file. */
  keyFile?: string;
  /** The host name or address the server's certificate must name. */
  host?: string;
}

/** The connection options Sluice sets. */
export interface NatsConnectionOptions {
  /** `host:port` or `nats://host:port` of each server. */
  servers: string[];
  /** The client's name, shown by the server. */
  name: string;
  /** Milliseconds one connection attempt may take. */
  timeout: number;
  /** Whether to reconnect after a lost connection. */
  reconnect: boolean;
  /** Reconnect attempts per server; -1 for no limit. */
  maxReconnectAttempts: number;
  /** Milliseconds between reconnect attempts to one server. */
  reconnectTimeWait: number;
  /** Random milliseconds added to each wait. */
  reconnectJitter: number;
  /** Milliseconds between pings. */
  pingInterval: number;
  /** A token to authenticate with. */
  token?: string;
  /** A user name. */
  user?: string;
  /** The user's password. */
  pass?: string;
  /** Credentials or nkey authentication. */
  authenticator?: NatsAuthenticator;
  /** TLS. */
  tls?: NatsTlsOptions;
}

/** A change of the connection's state (`disconnect` and `reconnect` name their server). */
export interface NatsStatus {
  /** `disconnect`, `reconnect` and others. */
  type: string;
  /** The server, for `disconnect` and `reconnect`. */
  server?: string;
}

/** A connection to a NATS server. */
export interface NatsConnection {
  /** The server connected to. */
  getServer(): string;
  /** The changes of state, until closed. */
  status(): AsyncIterable<NatsStatus>;
  /** Resolves when the connection is closed (with the error that closed it, if any). */
  closed(): Promise<void | Error>;
  /** Whether it is closed. */
  isClosed(): boolean;
  /** Sends what is pending, then closes. */
  drain(): Promise<void>;
  /** Closes at once. */
  close(): Promise<void>;
}

/** A stream's settings, as the JetStream API reports and takes them (durations in ns). */
export interface StreamConfig {
  /** The stream's name. */
  name: string;
  /** The subjects it stores. */
  subjects?: string[];
  /** Replicas. */
  num_replicas: number;
  /** The retention policy. */
  retention: "limits" | "workqueue" | "interest";
  /** Oldest message age kept, ns. */
  max_age: number;
  /** Most bytes kept. */
  max_bytes: number;
  /** Message ids are remembered this long, ns. */
  duplicate_window: number;
}

/** A consumer's settings (durations in ns). */
export interface ConsumerConfig {
  /** The durable name. */
  durable_name?: string;
  /** How messages are acknowledged: `explicit`, `none` or `all`. */
  ack_policy: string;
  /** Which messages it delivers first: `all`, `new` and others. */
  deliver_policy: string;
  /** How long the server waits for an acknowledgement, ns. */
  ack_wait?: number;
  /** Most messages delivered and not acknowledged. */
  max_ack_pending?: number;
  /** The subject the consumer reads. */
  filter_subject?: string;
}

/** Managing streams and consumers. */
export interface JetStreamManager {
  /** Streams. */
  streams: {
    /** A stream's settings; rejects with an API error 10059 when it is missing. */
    info(stream: string): Promise<{ config: StreamConfig }>;
    /** Creates a stream. */
    add(config: Partial<StreamConfig>): Promise<unknown>;
  };
  /** Consumers. */
  consumers: {
    /** A consumer's settings; rejects with an API error 10014 when it is missing. */
    info(stream: string, consumer: string): Promise<{ config: ConsumerConfig }>;
    /** Creates a consumer. */
    add(stream: string, config: Partial<ConsumerConfig>): Promise<unknown>;
  };
}

/** A stream's acknowledgement of a published message. */
export interface PubAck {
  /** Whether the stream already had a message of this id (so did not store it again). */
  duplicate: boolean;
}

/** A message delivered by a consumer. */
export interface JsMsg {
  /** Its payload. */
  data: Uint8Array;
  /** Whether it was delivered before. */
  redelivered: boolean;
  /** Acknowledges it. */
  ack(): void;
  /** Hands it back, to be redelivered after `millis`. */
  nak(millis?: number): void;
}

/** A pull consumer. */
export interface Consumer {
  /** Pulls up to `max_messages`, waiting at most `expires` ms on the server. */
  fetch(options: { max_messages: number; expires: number }): Promise<AsyncIterable<JsMsg>>;
}

/** Publishing to streams and reading them. */
export interface JetStreamClient {
  /** Publishes one message; resolves with the stream's acknowledgement. */
  publish(
    subject: string,
    payload: Uint8Array,
    options: { msgID: string; timeout: number },
  ): Promise<PubAck>;
  /** Consumers. */
  consumers: {
    /** A durable consumer of a stream. */
    get(stream: string, consumer: string): Promise<Consumer>;
  };
}

/** An error the JetStream API answered (`code`: its error code). */
export interface JetStreamApiError extends Error {
  /** The API's error code, such as 10059 for a missing stream. */
  readonly code: number;
}

/** What Sluice calls of `@nats-io/transport-node`. */
export interface NatsTransportModule {
  /** Makes a connection. */
  connect(options: NatsConnectionOptions): Promise<NatsConnection>;
  /** Authenticates with a `.creds` file's contents. */
  credsAuthenticator(creds: Uint8Array): NatsAuthenticator;
  /** Authenticates with an nkey seed. */
  nkeyAuthenticator(seed: Uint8Array): NatsAuthenticator;
}

/** What Sluice calls of `@nats-io/jetstream`. */
export interface JetStreamModule {
  /** The manager of a connection's streams and consumers. */
  jetstreamManager(nc: NatsConnection): Promise<JetStreamManager>;
  /** The client of a connection's streams. */
  jetstream(nc: NatsConnection, options?: { timeout: number }): JetStreamClient;
  /** The class of the API's errors. */
  JetStreamApiError: abstract new (...args: never[]) => JetStreamApiError;
}

/** Both NATS modules. */
export type NatsApi = NatsTransportModule & JetStreamModule;

/**
 * Loads the NATS client (both packages) when a `nats` component is created, not when its
 * plugin is imported: `sluice check` of a config naming one needs no npm package.
 *
 * @example
 * ```ts
 * import { loadNats } from "./nats_api.ts";
 * import assert from "node:assert/strict";
 * const nats = await loadNats();
 * assert.equal(typeof nats.connect, "function");
 * assert.equal(typeof nats.jetstreamManager, "function");
 * ```
 */
export async function loadNats(): Promise<NatsApi> {
  // Full specifiers, the ranges deno.json maps; src/cli/npm_packages.ts names them for the CLI.
  const [transport, js] = await Promise.all([
    importNpm<NatsTransportModule>("npm:@nats-io/transport-node@^3.4.0"),
    importNpm<JetStreamModule>("npm:@nats-io/jetstream@^3.4.0"),
  ]);
  return {
    connect: transport.connect,
    credsAuthenticator: transport.credsAuthenticator,
    nkeyAuthenticator: transport.nkeyAuthenticator,
    jetstreamManager: js.jetstreamManager,
    jetstream: js.jetstream,
    JetStreamApiError: js.JetStreamApiError,
  };
}

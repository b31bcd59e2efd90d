/**
 * The sections of a config file and the keys the framework handles on every component: each
 * declared once, for validation and for the published JSON Schema.
 *
 * @module
 */

import {
  isPlainObject,
  type JsonSchema,
  type JsonSchemaContext,
  type ParseContext,
  type Path,
  s,
  Schema,
} from "../schema/schema.ts";

/** Top-level sections of a config (besides `x-` keys, which are the user's own). */
export const SECTIONS = [
  "server",
  "loggers",
  "data_dir",
  "sources",
  "processors",
  "sinks",
] as const;

/** The plugin kind of each component section. */
export const SECTION_KIND = { sources: "source", processors: "processor", sinks: "sink" } as const;

/** Keys the framework handles for every component of a kind, besides the plugin's own. */
export const FRAMEWORK_KEYS: Record<"source" | "processor" | "sink", readonly string[]> = {
  source: ["type", "module"],
  processor: ["type", "module", "inputs"],
  sink: ["type", "module", "inputs", "level", "buffer", "fallback", "fallback_after"],
};

/** The fewest characters a `server.token` may have (16 hex digits are 64 random bits). */
export const MIN_TOKEN_LENGTH = 16;

/** The server section's schema. */
export const serverSchema = s.object({
  listen: s.string({
    pattern: /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/,
    patternName: "host:port such as 127.0.0.1:9600",
  })
    .default("127.0.0.1:9600").describe("Address the Sluice server binds."),
  token: s.string({ minLength: MIN_TOKEN_LENGTH }).optional().describe(
    `Bearer token required on ingest, metrics, stats and live routes: ${MIN_TOKEN_LENGTH} or more characters, no whitespace.`,
  ),
  max_body_bytes: s.bytes().default(10 * 1024 * 1024).describe("Largest accepted request body."),
  // The same defaults as the server's DEFAULT_LIMITS (src/server/serve.ts, a higher layer).
  max_connections: s.integer({ min: 1 }).default(512).describe(
    "Most open connections; beyond it the longest-idle keep-alive one is closed, else the new one gets 503.",
  ),
  header_timeout: s.duration().default(10_000).describe(
    "Longest a request's headers may take to arrive.",
  ),
  body_timeout: s.duration().default(30_000).describe(
    "Longest pause while a request body arrives.",
  ),
  idle_timeout: s.duration().default(5_000).describe(
    "Longest a keep-alive connection waits for its next request.",
  ),
  rate_limit: s.object({
    requests_per_second: s.number({ min: 0 }).default(1000).describe(
      "Ingest requests each client address may make per second on average; 0 disables the limit.",
    ),
    burst: s.integer({ min: 1 }).default(2000).describe("Requests a client may make at once."),
  }).default({ requests_per_second: 1000, burst: 2000 }).describe(
    "Per-client token bucket on ingest routes (answered 429 with Retry-After when exceeded).",
  ),
  auth_failures: s.object({
    max: s.integer({ min: 1 }).default(10).describe(
      "Failed authentications a client address may make per window.",
    ),
    window: s.duration().default(60_000).describe(
      "The window of max; failures are forgotten evenly over it.",
    ),
  }).default({ max: 10, window: 60_000 }).describe(
    "Per-client limit on failed authentications (beyond it 429 with Retry-After on every authenticated route).",
  ),
}, {
  refine: (server, path, ctx) => {
    // Never quote the token: the message names only what is wrong with it.
    if (server.token !== undefined && /\s/.test(server.token)) {
      ctx.issues.push({
        path: [...path, "token"],
        message: "The token contains whitespace, which a bearer token cannot carry",
        hint: "use a random token such as the output of `openssl rand -hex 24`",
      });
    }
    if (server.auth_failures.window <= 0) {
      ctx.issues.push({
        path: [...path, "auth_failures", "window"],
        message: "Expected a window longer than 0",
      });
    }
    const { port } = splitListen(server.listen);
    if (port > 65535) {
      ctx.issues.push({
        path: [...path, "listen"],
        message: `Port ${port} is out of range (0-65535)`,
      });
    }
  },
});

const loggerObjectSchema = s.object({
  level: s.level().optional().describe("The logger's level; inherited when omitted."),
  propagate: s.boolean().optional().describe(
    "Whether records also reach the sources attached to ancestor loggers.",
  ),
  caller: s.boolean().optional().describe(
    "Whether records carry their call site (file, line, column, function, module); inherited like the level.",
  ),
});

type LoggerSettings = {
  level?: number | undefined;
  propagate?: boolean | undefined;
  caller?: boolean | undefined;
};

class LoggerSchema extends Schema<LoggerSettings> {
  parse(value: unknown, path: Path, ctx: ParseContext) {
    if (isPlainObject(value)) return loggerObjectSchema.parse(value, path, ctx);
    const level = s.level().parse(value, path, ctx);
    return level === undefined ? undefined : { level };
  }
  expected(): string {
    return "a level or a mapping with level, propagate and caller";
  }
  jsonSchema(ctx: JsonSchemaContext): JsonSchema {
    return this.decorate(
      { anyOf: [s.level().jsonSchema(ctx), loggerObjectSchema.jsonSchema(ctx)] },
      ctx,
    );
  }
}

/** A logger's settings: a level, or a mapping with level and propagate. */
export const loggerSchema: Schema<LoggerSettings> = new LoggerSchema().describe(
  "A level, or a mapping with level, propagate and caller.",
);

/** A sink's framework keys. */
export const sinkFrameworkSchema = s.object({
  inputs: s.array(s.string({ minLength: 1 }), { single: true, minItems: 1 }).default([]).describe(
    "Sources or processors it reads; every source when omitted.",
  ),
  level: s.level().default(0).describe("Minimum level this sink accepts."),
  buffer: s.object({
    type: s.enum(["memory", "disk"] as const).default("memory").describe(
      "memory (default), or disk: checksummed segment files under data_dir that survive kill -9 and restarts.",
    ),
    max_records: s.integer({ min: 1 }).default(10_000).describe(
      "Most records queued (with type: disk, most records in one batch read back).",
    ),
    max_bytes: s.bytes().optional().describe(
      "Most bytes queued, estimated from messages, string fields and error text (8MiB); with type: disk, the size of its files (256MiB).",
    ),
    when_full: s.enum(["block", "drop_newest", "drop_oldest"] as const).default("block").describe(
      "In-process loggers when full: block (write synchronously; lossless), drop_newest or drop_oldest. Sources always wait. A memory-buffered sink that cannot write synchronously (tcp, http, udp, nats, postgres) takes drop_newest when unset and refuses block when a logger feeds it. A disk buffer takes block (sources wait) or drop_newest.",
    ),
    fsync: s.enum(["always", "interval", "never"] as const).optional().describe(
      "type: disk only. always: each append is synced before it is acknowledged (survives power loss); interval (default): written before acknowledged (survives kill -9), synced every fsync_interval; never: the OS decides.",
    ),
    fsync_interval: s.duration().optional().describe(
      "type: disk with fsync: interval: how often appends are synced (100ms).",
    ),
  }).default({
    type: "memory",
    max_records: 10_000,
    max_bytes: undefined,
    when_full: "block",
    fsync: undefined,
    fsync_interval: undefined,
  }),
  fallback: s.string({ minLength: 1 }).optional().describe(
    "A sink that takes what this one cannot deliver.",
  ),
  fallback_after: s.duration().default(30_000).describe(
    "How long delivery fails before the fallback takes over.",
  ),
});

/** A processor's framework keys. */
export const processorFrameworkSchema = s.object({
  inputs: s.array(s.string({ minLength: 1 }), { single: true, minItems: 1 }).describe(
    "Sources or processors it reads.",
  ),
});

/** The host and port of a `listen:` address (`[::1]:9600` gives `::1`). */
export function splitListen(listen: string): { hostname: string; port: number } {
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, "");
  return { hostname: host, port: Number(listen.slice(colon + 1)) };
}

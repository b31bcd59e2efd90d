/**
 * Config validation in layers: shape, plugin options, references, cycles. Every issue is
 * collected with its key path; nothing unknown is skipped.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathKey } from "./env.ts";
import {
  describe,
  type FormatterSpec,
  type Infer,
  isPlainObject,
  type Issue,
  type JsonSchema,
  type JsonSchemaContext,
  type ParseContext,
  type Path,
  s,
  Schema,
  unknownName,
} from "../schema/schema.ts";
import { sinkInputs } from "./sink_inputs.ts";
import { resolveBuffer } from "./resolve_buffer.ts";
import type { Registry } from "../plugin/registry.ts";
import type { PluginDefinition, PluginKind } from "../plugin/types.ts";
import type {
  ComponentConfig,
  LoggerConfig,
  ProcessorConfig,
  ResolvedConfig,
  SinkConfig,
} from "./types.ts";

/** Top-level sections of a config (besides `x-` keys, which are the user's own). */
export const SECTIONS = [
  "server",
  "loggers",
  "data_dir",
  "sources",
  "processors",
  "sinks",
] as const;

const SECTION_KIND = { sources: "source", processors: "processor", sinks: "sink" } as const;

/** Keys the framework handles for every component of a kind, besides the plugin's own. */
export const FRAMEWORK_KEYS: Record<"source" | "processor" | "sink", readonly string[]> = {
  source: ["type", "module"],
  processor: ["type", "module", "inputs"],
  sink: ["type", "module", "inputs", "level", "buffer", "fallback", "fallback_after"],
};

/** The server section's schema. */
export const serverSchema = s.object({
  listen: s.string({
    pattern: /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/,
    patternName: "host:port such as 127.0.0.1:9600",
  })
    .default("127.0.0.1:9600").describe("Address the Sluice server binds."),
  token: s.string({ minLength: 1 }).optional().describe(
    "Bearer token required on ingest and metrics routes.",
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
  inputs: s.array(s.string({ minLength: 1 }), { single: true }).default([]).describe(
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
      "In-process loggers when full: block (write synchronously; lossless), drop_newest or drop_oldest. Sources always wait. A disk buffer takes block (sources wait) or drop_newest.",
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

/** Inputs needed by {@linkcode validateConfig}. */
export interface ValidateOptions {
  /** Built-ins plus module plugins, keyed for lookup. */
  registry: Registry;
  /** Module plugins already imported, by their `module:` value. */
  modules: ReadonlyMap<string, PluginDefinition>;
  /** The directory relative paths resolve from. */
  baseDir: string;
  /** Paths (as `pathKey`) whose values came wholly from `${VAR}` references. */
  fromEnvironment?: ReadonlySet<string>;
}

/**
 * Validates an env-expanded config object. Returns the resolved config, or `undefined`
 * with every problem pushed to `issues`.
 *
 * @example An unknown sink type is reported with a suggestion
 * ```ts
 * import { validateConfig } from "./validate.ts";
 * import { Registry } from "../plugin/registry.ts";
 * import { loadBuiltins } from "../../plugins/mod.ts";
 * import type { Issue } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const issues: Issue[] = [];
 * validateConfig({ sinks: { out: { type: "fil", path: "a.log" } } },
 *   { registry: new Registry(await loadBuiltins()), modules: new Map(), baseDir: "." }, issues);
 * assert.ok(issues[0]?.hint === 'did you mean "file"?');
 * ```
 */
export function validateConfig(
  raw: unknown,
  options: ValidateOptions,
  issues: Issue[],
): ResolvedConfig | undefined {
  const ctx: ParseContext = {
    issues,
    resolveFormatter: (value, path, inner) => resolveFormatter(value, path, inner, options),
    fromEnvironment: (path) => options.fromEnvironment?.has(pathKey(path)) ?? false,
  };
  if (raw === null || raw === undefined) raw = {};
  if (!isPlainObject(raw)) {
    issues.push({ path: [], message: `Expected a mapping at the top level, got ${describe(raw)}` });
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    // `x-` keys are the user's own (a home for YAML anchors), as in Compose files.
    if ((SECTIONS as readonly string[]).includes(key) || key.startsWith("x-")) continue;
    issues.push(unknownName("top-level key", key, [key], SECTIONS, true));
  }

  const config: ResolvedConfig = {
    baseDir: options.baseDir,
    dataDir: resolve(options.baseDir, ".sluice"),
    loggers: {},
    sources: {},
    processors: {},
    sinks: {},
  };

  if (raw.server !== undefined) {
    // `server:` with nothing under it is a server with every default.
    const server = serverSchema.parse(raw.server, ["server"], ctx);
    if (server) {
      const { hostname, port } = splitListen(server.listen);
      if (port > 65535) {
        issues.push({
          path: ["server", "listen"],
          message: `Port ${port} is out of range (0-65535)`,
        });
      }
      config.server = {
        hostname,
        port,
        max_body_bytes: server.max_body_bytes,
        max_connections: server.max_connections,
        header_timeout: server.header_timeout,
        body_timeout: server.body_timeout,
        idle_timeout: server.idle_timeout,
        rate_limit: server.rate_limit,
      };
      if (server.token !== undefined) config.server.token = server.token;
    }
  }
  if (raw.data_dir !== undefined) {
    const dir = s.string({ minLength: 1 }).parse(raw.data_dir, ["data_dir"], ctx);
    if (dir) config.dataDir = resolve(options.baseDir, dir);
  }
  if (raw.loggers !== undefined && raw.loggers !== null) {
    if (!isPlainObject(raw.loggers)) {
      issues.push({
        path: ["loggers"],
        message: `Expected a mapping of logger names to levels, got ${describe(raw.loggers)}`,
      });
    } else {
      for (const [name, value] of Object.entries(raw.loggers)) {
        const parsed = loggerSchema.parse(value, ["loggers", name], ctx);
        if (parsed) {
          const logger: LoggerConfig = {
            level: parsed.level ?? 0,
            propagate: parsed.propagate ?? true,
          };
          if (parsed.caller !== undefined) logger.caller = parsed.caller;
          config.loggers[name] = logger;
        }
      }
    }
  }

  // Layer 2: each component's type and options.
  const ids = new Map<string, string>();
  const links: Links = { inputs: [], fallbacks: new Map() };
  const declared = (section: string) => {
    const value = raw[section];
    return isPlainObject(value) ? Object.keys(value) : [];
  };
  const declaredInputs = new Set([...declared("sources"), ...declared("processors")]);
  const declaredSinks = declared("sinks");
  for (const section of ["sources", "processors", "sinks"] as const) {
    const value = raw[section];
    if (value === undefined || value === null) continue;
    if (!isPlainObject(value)) {
      issues.push({
        path: [section],
        message: `Expected a mapping of ${section} by id, got ${describe(value)}`,
        ...(Array.isArray(value)
          ? { hint: `write each as \`<id>: { type: ... }\` under ${section}:` }
          : {}),
      });
      continue;
    }
    for (const [id, spec] of Object.entries(value)) {
      const other = ids.get(id);
      if (other) {
        issues.push({
          path: [section, id],
          atKey: true,
          message:
            `Id "${id}" is already used in ${other}; ids must be unique across sources, processors and sinks`,
        });
        continue;
      }
      ids.set(id, section);
      const firstInput = [...declaredInputs].find((input) => input !== id) ?? "app";
      validateComponent(section, id, spec, config, ctx, options, links, firstInput);
    }
  }

  // Layer 3: references.
  for (const { section, id, inputs } of links.inputs) {
    inputs.forEach((input, i) => {
      if (declaredInputs.has(input)) return;
      const path = [section, id, "inputs", i];
      if (declaredSinks.includes(input)) {
        issues.push({
          path,
          message: `Input "${input}" is a sink; inputs must be sources or processors`,
        });
      } else if (declaredInputs.size === 0) {
        issues.push({
          path,
          message: `Unknown input "${input}"; no sources or processors are defined`,
        });
      } else issues.push(unknownName("input", input, path, [...declaredInputs]));
    });
  }
  for (const [id, fallback] of links.fallbacks) {
    const path = ["sinks", id, "fallback"];
    if (fallback === id) {
      issues.push({ path, message: `Sink "${id}" cannot be its own fallback` });
    } else if (!declaredSinks.includes(fallback)) {
      const others = declaredSinks.filter((other) => other !== id);
      issues.push(
        others.length === 0
          ? { path, message: `Unknown fallback sink "${fallback}"; there is no other sink` }
          : unknownName("fallback sink", fallback, path, others),
      );
    }
  }

  // Layer 4: cycles among processors and among fallbacks.
  reportCycles(
    Object.fromEntries(
      links.inputs.filter((l) => l.section === "processors").map((l) => [l.id, l.inputs]),
    ),
    "processors",
    "inputs",
    (cycle) =>
      `Processor inputs form a cycle: ${
        cycle.slice(0, -1).map((id, i) => `${id} reads ${cycle[i + 1]}`).join(", ")
      }`,
    issues,
  );
  reportCycles(
    Object.fromEntries(
      [...links.fallbacks].filter(([id, to]) => id !== to).map(([id, to]) => [id, [to]]),
    ),
    "sinks",
    "fallback",
    (cycle) => `Fallback sinks form a cycle: ${cycle.join(" -> ")}`,
    issues,
  );

  for (const [id, source] of Object.entries(config.sources)) {
    if (source.definition.needsServer && raw.server === undefined) {
      issues.push({
        path: ["sources", id, "type"],
        message:
          `Source "${id}" (type ${source.type}) is served by the Sluice server, but there is no server section`,
        hint: "add `server: { listen: 127.0.0.1:9600 }`",
      });
    }
  }

  // Layer 5: every source and processor feeds a sink, or its records would be lost unseen.
  if (issues.length === 0) reportUnread(config, issues);

  return issues.length === 0 ? config : undefined;
}

/**
 * Reports each source and processor from which no sink can be reached, with the pipeline's own
 * wiring rule ({@linkcode sinkInputs}); processors are followed through to the sinks that read
 * them.
 */
function reportUnread(config: ResolvedConfig, issues: Issue[]): void {
  const sinkIds = Object.keys(config.sinks);
  const readers = new Map<string, string[]>();
  const read = (input: string, reader: string) => {
    const list = readers.get(input);
    if (list) list.push(reader);
    else readers.set(input, [reader]);
  };
  for (const [id, processor] of Object.entries(config.processors)) {
    for (const input of processor.inputs) read(input, id);
  }
  for (const id of sinkIds) for (const input of sinkInputs(config, id)) read(input, id);
  // Processor cycles were reported before this runs, so the walk ends.
  const feeds = new Map<string, boolean>();
  const feedsSink = (id: string): boolean => {
    if (Object.hasOwn(config.sinks, id)) return true;
    let known = feeds.get(id);
    if (known === undefined) {
      known = (readers.get(id) ?? []).some(feedsSink);
      feeds.set(id, known);
    }
    return known;
  };
  for (const section of ["sources", "processors"] as const) {
    for (const id of Object.keys(config[section])) {
      if (feedsSink(id)) continue;
      const what = section === "sources" ? "Source" : "Processor";
      issues.push({
        path: [section, id],
        atKey: true,
        message: `${what} "${id}" reaches no sink, so its records would be lost`,
        hint: sinkIds.length === 0
          ? "add a sink, such as `sinks: { out: { type: console } }`"
          : `add "${id}" to the inputs of a sink (${sinkIds.join(", ")}), or remove it`,
      });
    }
  }
}

/** The references of each component whose framework keys parsed, even if its options did not. */
interface Links {
  /** Inputs by component, keyed by section and id. */
  inputs: { section: "processors" | "sinks"; id: string; inputs: string[] }[];
  /** Fallback of each sink that names one. */
  fallbacks: Map<string, string>;
}

function validateComponent(
  section: "sources" | "processors" | "sinks",
  id: string,
  spec: unknown,
  config: ResolvedConfig,
  ctx: ParseContext,
  options: ValidateOptions,
  links: Links,
  firstInput: string,
): void {
  const kind = SECTION_KIND[section];
  const path = [section, id];
  if (!isPlainObject(spec)) {
    ctx.issues.push({ path, message: `Expected a mapping with a type, got ${describe(spec)}` });
    return;
  }
  // Framework keys first: their references are checked even when the plugin part is wrong.
  const framework: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec)) {
    if (FRAMEWORK_KEYS[kind].includes(key) && key !== "type" && key !== "module") {
      framework[key] = value;
    }
  }
  let processorFw: Infer<typeof processorFrameworkSchema> | undefined;
  let sinkFw: Infer<typeof sinkFrameworkSchema> | undefined;
  if (section === "processors") {
    if (framework.inputs === undefined || framework.inputs === null) {
      ctx.issues.push({
        path,
        message: `Processor "${id}" has no inputs; list the sources or processors it reads`,
        hint: `add \`inputs: [${firstInput}]\``,
      });
    } else processorFw = processorFrameworkSchema.parse(framework, path, ctx);
  } else if (section === "sinks") sinkFw = sinkFrameworkSchema.parse(framework, path, ctx);
  if (section !== "sources") {
    // References on their own (their issues are already reported above), so that a bad
    // level does not hide a dangling input.
    const probe: ParseContext = { issues: [] };
    const inputs = sinkFrameworkSchema.shape.inputs.parse(framework.inputs ?? [], path, probe);
    if (inputs && framework.inputs !== undefined) links.inputs.push({ section, id, inputs });
    const fallback = framework.fallback === undefined
      ? undefined
      : sinkFrameworkSchema.shape.fallback.parse(framework.fallback, path, probe);
    if (section === "sinks" && fallback !== undefined) links.fallbacks.set(id, fallback);
  }

  const definition = findDefinition(kind, spec, path, ctx.issues, options);
  if (!definition) return;
  const parsed = parseOptions(definition, spec, FRAMEWORK_KEYS[kind], path, ctx);
  if (!parsed) return;
  const base = { id, type: definition.type, definition, options: parsed };
  if (section === "sources") config.sources[id] = base as ComponentConfig<"source">;
  else if (section === "processors" && processorFw) {
    config.processors[id] = { ...base, inputs: processorFw.inputs } as ProcessorConfig;
  } else if (section === "sinks" && sinkFw) {
    const sink: SinkConfig = {
      ...(base as ComponentConfig<"sink">),
      inputs: sinkFw.inputs,
      level: sinkFw.level,
      buffer: resolveBuffer(sinkFw.buffer, [...path, "buffer"], ctx),
      fallback_after: sinkFw.fallback_after,
    };
    if (sinkFw.fallback !== undefined) sink.fallback = sinkFw.fallback;
    config.sinks[id] = sink;
  }
}

/**
 * Parses a plugin's own options out of a component's mapping. The plugin's schema also
 * accepts the framework keys, so that an unknown key is checked (and suggested) against both.
 */
function parseOptions(
  definition: PluginDefinition,
  spec: Record<string, unknown>,
  frameworkKeys: readonly string[],
  path: Path,
  ctx: ParseContext,
): Record<string, unknown> | undefined {
  const schema = definition.options;
  if (typeof schema.accepting === "function") {
    return schema.accepting(frameworkKeys).parse(spec, path, ctx) as
      | Record<string, unknown>
      | undefined;
  }
  // A module built against another copy of Sluice's schema classes: parse its keys only.
  const own = Object.fromEntries(
    Object.entries(spec).filter(([key]) => !frameworkKeys.includes(key)),
  );
  return schema.parse(own, path, ctx) as Record<string, unknown> | undefined;
}

function findDefinition<K extends PluginKind>(
  kind: K,
  spec: Record<string, unknown>,
  path: Path,
  issues: Issue[],
  options: ValidateOptions,
): PluginDefinition<K> | undefined {
  const { type, module } = spec;
  if (module !== undefined) {
    if (type !== undefined && typeof module === "string") {
      // A module's definition names its own type; a type given alongside must agree.
      const loaded = options.modules.get(module);
      if (loaded && loaded.type !== type) {
        issues.push({
          path: [...path, "type"],
          message: `Module "${module}" defines type "${loaded.type}", not "${String(type)}"`,
        });
        return undefined;
      }
    }
    if (typeof module !== "string" || module === "") {
      issues.push({
        path: [...path, "module"],
        message: `Expected a module path or URL, got ${describe(module)}`,
      });
      return undefined;
    }
    const loaded = options.modules.get(module);
    if (!loaded) return undefined; // the loader already reported why
    if (loaded.kind !== kind) {
      issues.push({
        path: [...path, "module"],
        message: `Module "${module}" defines a ${loaded.kind}, but it is used as a ${kind}`,
      });
      return undefined;
    }
    return loaded as PluginDefinition<K>;
  }
  if (type === undefined) {
    issues.push({
      path,
      message: `Missing "type" (one of ${options.registry.types(kind).join(", ")}) or "module"`,
    });
    return undefined;
  }
  if (typeof type !== "string") {
    issues.push({
      path: [...path, "type"],
      message: `Expected a ${kind} type name, got ${describe(type)}`,
    });
    return undefined;
  }
  const definition = options.registry.get(kind, type);
  if (definition) return definition;
  const otherKind = (["source", "processor", "formatter", "sink"] as const).find((k) =>
    k !== kind && options.registry.get(k, type)
  );
  if (otherKind) {
    issues.push({
      path: [...path, "type"],
      message: `"${type}" is a ${otherKind} type, not a ${kind} type`,
      ...(otherKind === "formatter" && kind === "sink"
        ? { hint: `use it as a sink's format, e.g. \`type: file, format: ${type}\`` }
        : {}),
    });
  } else {
    issues.push(unknownName(`${kind} type`, type, [...path, "type"], options.registry.types(kind)));
  }
  return undefined;
}

function resolveFormatter(
  value: unknown,
  path: Path,
  ctx: ParseContext,
  options: ValidateOptions,
): FormatterSpec | undefined {
  let spec: Record<string, unknown>;
  if (typeof value === "string") spec = { type: value };
  else if (isPlainObject(value)) spec = value;
  else {
    ctx.issues.push({
      path,
      message: `Expected a formatter type name or a mapping with a type, got ${describe(value)}`,
    });
    return undefined;
  }
  const before = ctx.issues.length;
  const definition = findDefinition("formatter", spec, path, ctx.issues, options);
  if (typeof value === "string") {
    // The shorthand `format: jsn` has no `type` key: report at `format` itself.
    for (const issue of ctx.issues.slice(before)) issue.path = path;
  }
  if (!definition) return undefined;
  const { module } = spec;
  const parsed = parseOptions(definition, spec, ["type", "module"], path, ctx);
  if (!parsed) return undefined;
  const out: FormatterSpec = { type: definition.type, options: parsed };
  if (typeof module === "string") out.module = module;
  return out;
}

function reportCycles(
  graph: Record<string, string[]>,
  section: string,
  key: string,
  describeCycle: (cycle: string[]) => string,
  issues: Issue[],
): void {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): void => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      issues.push({
        path: [section, id, key],
        message: describeCycle(cycle),
      });
      return;
    }
    if (!Object.hasOwn(graph, id)) return;
    state.set(id, "visiting");
    stack.push(id);
    for (const next of graph[id] ?? []) visit(next);
    stack.pop();
    state.set(id, "done");
  };
  for (const id of Object.keys(graph)) visit(id);
}

function splitListen(listen: string): { hostname: string; port: number } {
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, "");
  return { hostname: host, port: Number(listen.slice(colon + 1)) };
}

/**
 * Config validation in layers: shape, plugin options, references, cycles. Every issue is
 * collected with its key path; nothing unknown is skipped.
 *
 * @module
 */

import { resolve } from "node:path";
import { closest } from "../schema/closest.ts";
import {
  describe,
  type FormatterSpec,
  isPlainObject,
  type Issue,
  type ParseContext,
  type Path,
  s,
} from "../schema/schema.ts";
import type { Registry } from "../plugin/registry.ts";
import type { PluginDefinition, PluginKind } from "../plugin/types.ts";
import type {
  ComponentConfig,
  LoggerConfig,
  ProcessorConfig,
  ResolvedConfig,
  SinkConfig,
} from "./types.ts";

/** Top-level sections of a config. */
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
  rate_limit: s.object({
    requests_per_second: s.number({ min: 0 }).default(1000).describe(
      "Ingest requests each client address may make per second on average; 0 disables the limit.",
    ),
    burst: s.integer({ min: 1 }).default(2000).describe("Requests a client may make at once."),
  }).default({ requests_per_second: 1000, burst: 2000 }).describe(
    "Per-client token bucket on ingest routes (answered 429 with Retry-After when exceeded).",
  ),
});

/** A logger's settings: a level, or a mapping with level and propagate. */
export const loggerSchema = s.union<{ level?: number; propagate?: boolean }>(
  s.custom(
    (v) => {
      if (isPlainObject(v)) return undefined;
      const level = s.level().parse(v, [], { issues: [] });
      return level === undefined ? undefined : { level };
    },
    "a level (trace, debug, info, warn, error, critical)",
    { type: "string" },
  ),
  s.object({ level: s.level().optional(), propagate: s.boolean().optional() }) as never,
);

/** A sink's framework keys. */
export const sinkFrameworkSchema = s.object({
  inputs: s.array(s.string({ minLength: 1 }), { single: true }).default([]).describe(
    "Sources or processors it reads; every source when omitted.",
  ),
  level: s.level().default(0).describe("Minimum level this sink accepts."),
  buffer: s.object({
    max_records: s.integer({ min: 1 }).default(10_000).describe("Most records queued."),
    max_bytes: s.bytes().default(8 * 1024 * 1024).describe("Most bytes queued (estimated)."),
    when_full: s.enum(["block", "drop_newest", "drop_oldest"] as const).default("block").describe(
      "In-process loggers when full: block (write synchronously; lossless), drop_newest or drop_oldest. Sources always wait.",
    ),
  }).default({ max_records: 10_000, max_bytes: 8 * 1024 * 1024, when_full: "block" }),
  fallback: s.string({ minLength: 1 }).optional().describe(
    "A sink that takes what this one cannot deliver.",
  ),
  fallback_after: s.duration().default(30_000).describe(
    "How long delivery fails before the fallback takes over.",
  ),
});

const processorFrameworkSchema = s.object({
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
}

/**
 * Validates an env-expanded config object. Returns the resolved config, or `undefined`
 * with every problem pushed to `issues`.
 *
 * @example An unknown sink type is reported with a suggestion
 * ```ts
 * import { validateConfig } from "./validate.ts";
 * import { Registry } from "../plugin/registry.ts";
 * import { builtins } from "../../plugins/mod.ts";
 * const issues = [];
 * validateConfig({ sinks: { out: { type: "fil", path: "a.log" } } },
 *   { registry: new Registry(builtins), modules: new Map(), baseDir: "." }, issues);
 * console.assert(issues[0]?.hint === 'did you mean "file"?');
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
  };
  if (raw === null || raw === undefined) raw = {};
  if (!isPlainObject(raw)) {
    issues.push({ path: [], message: `Expected a mapping at the top level, got ${describe(raw)}` });
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if ((SECTIONS as readonly string[]).includes(key)) continue;
    const hint = closest(key, SECTIONS);
    issues.push({
      path: [key],
      atKey: true,
      message: `Unknown top-level key "${key}"; expected one of ${SECTIONS.join(", ")}`,
      ...(hint ? { hint: `did you mean "${hint}"?` } : {}),
    });
  }

  const config: ResolvedConfig = {
    baseDir: options.baseDir,
    dataDir: resolve(options.baseDir, ".sluice"),
    loggers: {},
    sources: {},
    processors: {},
    sinks: {},
  };

  if (raw.server !== undefined && raw.server !== null) {
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
          config.loggers[name] = logger;
        }
      }
    }
  }

  // Layer 2: each component's type and options.
  const ids = new Map<string, string>();
  for (const section of ["sources", "processors", "sinks"] as const) {
    const value = raw[section];
    if (value === undefined || value === null) continue;
    if (!isPlainObject(value)) {
      issues.push({
        path: [section],
        message: `Expected a mapping of ${section} by id, got ${describe(value)}`,
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
      validateComponent(section, id, spec, config, ctx, options);
    }
  }

  // Layer 3: references.
  const inputsKnown = [...Object.keys(config.sources), ...Object.keys(config.processors)];
  const declaredInputs = new Set([
    ...Object.keys(isPlainObject(raw.sources) ? raw.sources : {}),
    ...Object.keys(isPlainObject(raw.processors) ? raw.processors : {}),
  ]);
  const checkInputs = (section: "processors" | "sinks", id: string, inputs: readonly string[]) => {
    inputs.forEach((input, i) => {
      if (declaredInputs.has(input)) return;
      const isSink = isPlainObject(raw.sinks) && input in raw.sinks;
      const hint = closest(input, inputsKnown);
      issues.push({
        path: [section, id, "inputs", i],
        message: isSink
          ? `Input "${input}" is a sink; inputs must be sources or processors`
          : `Unknown input "${input}"; expected one of ${
            inputsKnown.length ? inputsKnown.join(", ") : "(no sources defined)"
          }`,
        ...(hint ? { hint: `did you mean "${hint}"?` } : {}),
      });
    });
  };
  for (const [id, p] of Object.entries(config.processors)) checkInputs("processors", id, p.inputs);
  for (const [id, sink] of Object.entries(config.sinks)) {
    checkInputs("sinks", id, sink.inputs);
    if (sink.fallback !== undefined) {
      const declaredSinks = Object.keys(isPlainObject(raw.sinks) ? raw.sinks : {});
      if (sink.fallback === id) {
        issues.push({
          path: ["sinks", id, "fallback"],
          message: `Sink "${id}" cannot be its own fallback`,
        });
      } else if (!declaredSinks.includes(sink.fallback)) {
        const hint = closest(sink.fallback, declaredSinks);
        issues.push({
          path: ["sinks", id, "fallback"],
          message: `Unknown fallback sink "${sink.fallback}"; expected one of ${
            declaredSinks.filter((s) => s !== id).join(", ") || "(no other sinks)"
          }`,
          ...(hint ? { hint: `did you mean "${hint}"?` } : {}),
        });
      }
    }
  }

  // Layer 4: cycles among processors and among fallbacks.
  reportCycles(
    Object.fromEntries(Object.entries(config.processors).map(([id, p]) => [id, p.inputs])),
    "processors",
    "inputs",
    issues,
  );
  reportCycles(
    Object.fromEntries(
      Object.entries(config.sinks).map(([id, sink]) => [id, sink.fallback ? [sink.fallback] : []]),
    ),
    "sinks",
    "fallback",
    issues,
  );

  for (const [id, source] of Object.entries(config.sources)) {
    if (source.definition.needsServer && !config.server) {
      issues.push({
        path: ["sources", id, "type"],
        message:
          `Source "${id}" of type "${source.type}" is served by the Sluice server, but there is no server section`,
        hint: "add `server: { listen: 127.0.0.1:9600 }`",
      });
    }
  }

  return issues.length === 0 ? config : undefined;
}

function validateComponent(
  section: "sources" | "processors" | "sinks",
  id: string,
  spec: unknown,
  config: ResolvedConfig,
  ctx: ParseContext,
  options: ValidateOptions,
): void {
  const kind = SECTION_KIND[section];
  const path = [section, id];
  if (!isPlainObject(spec)) {
    ctx.issues.push({ path, message: `Expected a mapping with a type, got ${describe(spec)}` });
    return;
  }
  const definition = findDefinition(kind, spec, path, ctx.issues, options);
  if (!definition) return;
  const own: Record<string, unknown> = {};
  const framework: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === "type" || key === "module") continue;
    if (FRAMEWORK_KEYS[kind].includes(key)) framework[key] = value;
    else own[key] = value;
  }
  const before = ctx.issues.length;
  const unknown = definition.options.parse(own, path, ctx);
  // Unknown-key messages should list the framework keys as valid too.
  for (const issue of ctx.issues.slice(before)) {
    if (issue.atKey && issue.hint === undefined) {
      const key = String(issue.path[issue.path.length - 1]);
      const hint = closest(key, FRAMEWORK_KEYS[kind]);
      if (hint) issue.hint = `did you mean "${hint}"?`;
    }
  }
  const parsed = unknown as Record<string, unknown> | undefined;
  const base = { id, type: definition.type, definition, options: parsed ?? {} };
  if (kind === "source") {
    if (parsed) config.sources[id] = base as ComponentConfig<"source">;
  } else if (kind === "processor") {
    const fw = processorFrameworkSchema.parse(framework, path, ctx);
    if (parsed && fw) config.processors[id] = { ...base, inputs: fw.inputs } as ProcessorConfig;
  } else {
    const fw = sinkFrameworkSchema.parse(framework, path, ctx);
    if (parsed && fw) {
      const sink: SinkConfig = {
        ...(base as ComponentConfig<"sink">),
        inputs: fw.inputs,
        level: fw.level,
        buffer: fw.buffer,
        fallback_after: fw.fallback_after,
      };
      if (fw.fallback !== undefined) sink.fallback = fw.fallback;
      config.sinks[id] = sink;
    }
  }
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
  const hint = closest(type, options.registry.types(kind));
  issues.push({
    path: [...path, "type"],
    message: otherKind
      ? `"${type}" is a ${otherKind}, not a ${kind}; ${kind} types are ${
        options.registry.types(kind).join(", ")
      }`
      : `Unknown ${kind} type "${type}"; expected one of ${
        options.registry.types(kind).join(", ")
      }`,
    ...(hint ? { hint: `did you mean "${hint}"?` } : {}),
  });
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
      message: `Expected a formatter (${
        options.registry.types("formatter").join(", ")
      }) or a mapping with a type, got ${describe(value)}`,
    });
    return undefined;
  }
  const definition = findDefinition("formatter", spec, path, ctx.issues, options);
  if (!definition) return undefined;
  const { type: _type, module, ...rest } = spec;
  const parsed = definition.options.parse(rest, path, ctx) as Record<string, unknown> | undefined;
  if (!parsed) return undefined;
  const out: FormatterSpec = { type: definition.type, options: parsed };
  if (typeof module === "string") out.module = module;
  return out;
}

function reportCycles(
  graph: Record<string, string[]>,
  section: string,
  key: string,
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
        message: `Cycle through ${key}: ${cycle.join(" -> ")}`,
      });
      return;
    }
    if (!(id in graph)) return;
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

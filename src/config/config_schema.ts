/**
 * The whole config file's shape as one schema: its sections, each component's plugin and
 * options. What lies between components (inputs, fallbacks, cycles, unread sources) is left
 * to the validator.
 *
 * @module
 */

import { resolve } from "node:path";
import {
  describe,
  isPlainObject,
  type JsonSchema,
  type ParseContext,
  type Path,
  s,
  Schema,
  unknownName,
} from "../schema/schema.ts";
import { parseComponent, type PluginLookup, resolveFormatter } from "./component_schema.ts";
import { buildJsonSchema } from "./json_schema.ts";
import { loggerSchema, SECTIONS, serverSchema, splitListen } from "./sections.ts";
import type { LoggerConfig, ResolvedConfig } from "./types.ts";

/** The component sections, in the order ids are claimed. */
export const COMPONENT_SECTIONS = ["sources", "processors", "sinks"] as const;

/** A component section's name. */
export type ComponentSection = typeof COMPONENT_SECTIONS[number];

/** One component as written: where it is declared and its raw mapping. */
export interface ComponentEntry {
  /** Its section. */
  section: ComponentSection;
  /** Its id. */
  id: string;
  /** The value under its id, unvalidated. */
  spec: unknown;
}

/**
 * Every component of a raw config in declaration order, except an id already used by an
 * earlier one (the schema reports those): the entries references are checked between.
 *
 * @example A duplicate id is left out
 * ```ts
 * import { componentEntries } from "./config_schema.ts";
 * import assert from "node:assert/strict";
 * const entries = componentEntries({ sources: { a: {} }, sinks: { a: {}, b: {} } });
 * assert.deepEqual(entries.map((e) => `${e.section}.${e.id}`), ["sources.a", "sinks.b"]);
 * ```
 */
export function componentEntries(raw: Record<string, unknown>): ComponentEntry[] {
  const seen = new Set<string>();
  const out: ComponentEntry[] = [];
  for (const section of COMPONENT_SECTIONS) {
    const value = raw[section];
    if (!isPlainObject(value)) continue;
    for (const [id, spec] of Object.entries(value)) {
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ section, id, spec });
    }
  }
  return out;
}

/** The ids declared in a section of a raw config (duplicates included). */
export function declaredIds(raw: Record<string, unknown>, section: ComponentSection): string[] {
  const value = raw[section];
  return isPlainObject(value) ? Object.keys(value) : [];
}

/** What {@linkcode ConfigSchema} needs: the plugins, and where relative paths resolve. */
export interface ConfigSchemaOptions extends PluginLookup {
  /** The directory relative paths resolve from. */
  baseDir: string;
}

/**
 * A config file's shape: top-level sections (and the user's own `x-` keys), the server,
 * loggers, and every source, processor and sink with its plugin's options. Its value is the
 * resolved config before references are checked.
 *
 * @example A sink's unknown key is reported at its path
 * ```ts
 * import { ConfigSchema } from "./config_schema.ts";
 * import { Registry } from "../plugin/registry.ts";
 * import { loadBuiltins } from "../../plugins/mod.ts";
 * import type { Issue } from "../schema/schema.ts";
 * import assert from "node:assert/strict";
 * const schema = new ConfigSchema({
 *   registry: new Registry(await loadBuiltins()),
 *   modules: new Map(),
 *   baseDir: ".",
 * });
 * const ctx = { issues: [] as Issue[] };
 * schema.parse({ sinks: { out: { type: "console", levle: "info" } } }, [], ctx);
 * assert.deepEqual(ctx.issues[0]?.path, ["sinks", "out", "levle"]);
 * ```
 */
export class ConfigSchema extends Schema<ResolvedConfig> {
  /** Creates the schema for the given plugins. */
  constructor(private readonly options: ConfigSchemaOptions) {
    super();
  }

  /** Parses a whole env-expanded config, pushing every issue of shape and options. */
  parse(raw: unknown, path: Path, outer: ParseContext): ResolvedConfig | undefined {
    const ctx: ParseContext = {
      ...outer,
      resolveFormatter: (value, at, inner) => resolveFormatter(value, at, inner, this.options),
    };
    const before = ctx.issues.length;
    if (raw === null || raw === undefined) raw = {};
    if (!isPlainObject(raw)) {
      ctx.issues.push({ path, message: `Expected ${this.expected()}, got ${describe(raw)}` });
      return undefined;
    }
    for (const key of Object.keys(raw)) {
      // `x-` keys are the user's own (a home for YAML anchors), as in Compose files.
      if ((SECTIONS as readonly string[]).includes(key) || key.startsWith("x-")) continue;
      ctx.issues.push(unknownName("top-level key", key, [...path, key], SECTIONS, true));
    }
    const { baseDir } = this.options;
    const config: ResolvedConfig = {
      baseDir,
      dataDir: resolve(baseDir, ".sluice"),
      loggers: {},
      sources: {},
      processors: {},
      sinks: {},
    };
    if (raw.server !== undefined) {
      // `server:` with nothing under it is a server with every default.
      const server = serverSchema.parse(raw.server, [...path, "server"], ctx);
      if (server) {
        const { token, listen, ...limits } = server;
        config.server = { ...splitListen(listen), ...limits };
        if (token !== undefined) config.server.token = token;
      }
    }
    if (raw.data_dir !== undefined) {
      const dir = s.string({ minLength: 1 }).parse(raw.data_dir, [...path, "data_dir"], ctx);
      if (dir) config.dataDir = resolve(baseDir, dir);
    }
    if (raw.loggers !== undefined && raw.loggers !== null) {
      this.#parseLoggers(raw.loggers, [...path, "loggers"], config, ctx);
    }
    this.#parseComponents(raw, path, config, ctx);
    for (const [id, source] of Object.entries(config.sources)) {
      if (source.definition.needsServer && raw.server === undefined) {
        ctx.issues.push({
          path: [...path, "sources", id, "type"],
          message:
            `Source "${id}" (type ${source.type}) is served by the Sluice server, but there is no server section`,
          hint: "add `server: { listen: 127.0.0.1:9600 }`",
        });
      }
    }
    return ctx.issues.length === before ? config : undefined;
  }

  #parseLoggers(value: unknown, path: Path, config: ResolvedConfig, ctx: ParseContext): void {
    if (!isPlainObject(value)) {
      ctx.issues.push({
        path,
        message: `Expected a mapping of logger names to levels, got ${describe(value)}`,
      });
      return;
    }
    for (const [name, settings] of Object.entries(value)) {
      const parsed = loggerSchema.parse(settings, [...path, name], ctx);
      if (!parsed) continue;
      const logger: LoggerConfig = {
        level: parsed.level ?? 0,
        propagate: parsed.propagate ?? true,
      };
      if (parsed.caller !== undefined) logger.caller = parsed.caller;
      config.loggers[name] = logger;
    }
  }

  #parseComponents(
    raw: Record<string, unknown>,
    path: Path,
    config: ResolvedConfig,
    ctx: ParseContext,
  ): void {
    const inputs = new Set([...declaredIds(raw, "sources"), ...declaredIds(raw, "processors")]);
    const ids = new Map<string, string>();
    for (const section of COMPONENT_SECTIONS) {
      const value = raw[section];
      if (value === undefined || value === null) continue;
      if (!isPlainObject(value)) {
        ctx.issues.push({
          path: [...path, section],
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
          ctx.issues.push({
            path: [...path, section, id],
            atKey: true,
            message:
              `Id "${id}" is already used in ${other}; ids must be unique across sources, processors and sinks`,
          });
          continue;
        }
        ids.set(id, section);
        const firstInput = [...inputs].find((input) => input !== id) ?? "app";
        parseComponent(section, id, spec, config, ctx, this.options, firstInput);
      }
    }
  }

  /** "a mapping at the top level". */
  expected(): string {
    return "a mapping at the top level";
  }

  /** The published JSON Schema of a config with these plugins ({@linkcode buildJsonSchema}). */
  jsonSchema(): JsonSchema {
    return buildJsonSchema(this.options.registry);
  }
}

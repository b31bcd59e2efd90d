/**
 * One component of a config: its framework keys, the plugin it names and that plugin's
 * options (with `format:` references resolved to formatters).
 *
 * @module
 */

import {
  describe,
  type FormatterSpec,
  type Infer,
  isPlainObject,
  type Issue,
  type ParseContext,
  type Path,
  unknownName,
} from "../schema/schema.ts";
import { resolveBuffer } from "./resolve_buffer.ts";
import {
  FRAMEWORK_KEYS,
  processorFrameworkSchema,
  SECTION_KIND,
  sinkFrameworkSchema,
} from "./sections.ts";
import type { Registry } from "../plugin/registry.ts";
import type { PluginDefinition, PluginKind } from "../plugin/types.ts";
import type { ComponentConfig, ProcessorConfig, ResolvedConfig, SinkConfig } from "./types.ts";

/** Where plugin definitions are found: built-ins by type, a user's modules by `module:`. */
export interface PluginLookup {
  /** Built-ins plus module plugins, keyed for lookup. */
  registry: Registry;
  /** Module plugins already imported, by their `module:` value. */
  modules: ReadonlyMap<string, PluginDefinition>;
}

/**
 * Validates one component: its framework keys, its plugin (by `type:` or `module:`) and the
 * plugin's options. A valid component is added to its section of `config`; every problem is
 * pushed to `ctx.issues`. `firstInput` names an input for the hint of a processor without any.
 */
export function parseComponent(
  section: "sources" | "processors" | "sinks",
  id: string,
  spec: unknown,
  config: Pick<ResolvedConfig, "sources" | "processors" | "sinks">,
  ctx: ParseContext,
  plugins: PluginLookup,
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
  } else if (section === "sinks") {
    if (Array.isArray(framework.inputs) && framework.inputs.length === 0) {
      // Omitted inputs mean every source; an empty list would read nothing, silently.
      ctx.issues.push({
        path: [...path, "inputs"],
        message: `Sink "${id}" has an empty inputs list, so it would receive no records`,
        hint:
          `list what it reads, such as \`inputs: [${firstInput}]\`, or omit inputs to read every source`,
      });
    } else sinkFw = sinkFrameworkSchema.parse(framework, path, ctx);
  }
  const definition = findDefinition(kind, spec, path, ctx.issues, plugins);
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
 * The plugin sandbox parses a module plugin's options with it too.
 */
export function parseOptions(
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
  plugins: PluginLookup,
): PluginDefinition<K> | undefined {
  const { type, module } = spec;
  if (module !== undefined) {
    if (type !== undefined && typeof module === "string") {
      // A module's definition names its own type; a type given alongside must agree.
      const loaded = plugins.modules.get(module);
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
    const loaded = plugins.modules.get(module);
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
      message: `Missing "type" (one of ${plugins.registry.types(kind).join(", ")}) or "module"`,
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
  const definition = plugins.registry.get(kind, type);
  if (definition) return definition;
  const otherKind = (["source", "processor", "formatter", "sink"] as const).find((k) =>
    k !== kind && plugins.registry.get(k, type)
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
    issues.push(unknownName(`${kind} type`, type, [...path, "type"], plugins.registry.types(kind)));
  }
  return undefined;
}

/** Resolves a `format:` value (a type name or a mapping) to a validated formatter. */
export function resolveFormatter(
  value: unknown,
  path: Path,
  ctx: ParseContext,
  plugins: PluginLookup,
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
  const definition = findDefinition("formatter", spec, path, ctx.issues, plugins);
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

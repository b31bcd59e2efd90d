/**
 * Config validation in layers: the file's shape and every plugin's options
 * ({@linkcode ConfigSchema}), then what lies between components: references (`inputs`,
 * `fallback`), cycles, and sources whose records would reach no sink. Every issue is collected
 * with its key path; nothing unknown is skipped.
 *
 * @module
 */

import { pathKey } from "./env.ts";
import { isPlainObject, type Issue, type ParseContext, unknownName } from "../schema/schema.ts";
import { componentEntries, ConfigSchema, declaredIds } from "./config_schema.ts";
import type { PluginLookup } from "./component_schema.ts";
import { sinkFrameworkSchema } from "./sections.ts";
import { sinkInputs } from "./sink_inputs.ts";
import { reportClashes } from "./clashes.ts";
import { reportMissingFiles } from "./missing_files.ts";
import type { ResolvedConfig } from "./types.ts";

/** Inputs needed by {@linkcode validateConfig}. */
export interface ValidateOptions extends PluginLookup {
  /** The directory relative paths resolve from. */
  baseDir: string;
  /** Paths (as `pathKey`) whose values came wholly from `${VAR}` references. */
  fromEnvironment?: ReadonlySet<string>;
  /** Whether files the config names (TLS) must exist now; see `LoadOptions.requireFiles`. */
  requireFiles?: boolean;
  /** The environment the config is loaded with (for `ParseContext.env`). */
  env?: (name: string) => string | undefined;
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
    fromEnvironment: (path) => options.fromEnvironment?.has(pathKey(path)) ?? false,
    ...(options.env ? { env: options.env } : {}),
  };
  if (raw === null || raw === undefined) raw = {};
  // Layers 1 and 2: the file's shape, each component's type and options.
  const config = new ConfigSchema(options).parse(raw, [], ctx);
  if (!isPlainObject(raw)) return undefined;

  // Layer 3: references.
  const links = collectLinks(raw);
  const declaredInputs = new Set([
    ...declaredIds(raw, "sources"),
    ...declaredIds(raw, "processors"),
  ]);
  const declaredSinks = declaredIds(raw, "sinks");
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

  // Layer 5: every source and processor feeds a sink, or its records would be lost unseen.
  if (config && issues.length === 0) reportUnread(config, issues);
  // Layer 6: what two components cannot share (a port, a file), and paths that are directories.
  if (config && issues.length === 0) {
    reportClashes(config, issues);
    if (options.requireFiles) reportMissingFiles(config, issues);
  }

  // Layer 6: what `when_full` a sink can honour for the log calls that reach it.
  if (config && issues.length === 0) resolveWhenFull(config, raw, issues);

  return issues.length === 0 ? config : undefined;
}

/** The references of each component, read even where its plugin or options are wrong. */
interface Links {
  /** Inputs by component, keyed by section and id. */
  inputs: { section: "processors" | "sinks"; id: string; inputs: string[] }[];
  /** Fallback of each sink that names one. */
  fallbacks: Map<string, string>;
}

/**
 * The inputs and fallbacks written on each processor and sink, parsed on their own (their
 * issues are the shape's to report), so that a bad level does not hide a dangling input.
 */
function collectLinks(raw: Record<string, unknown>): Links {
  const links: Links = { inputs: [], fallbacks: new Map() };
  const { inputs: inputsSchema, fallback: fallbackSchema } = sinkFrameworkSchema.shape;
  for (const { section, id, spec } of componentEntries(raw)) {
    if (section === "sources" || !isPlainObject(spec)) continue;
    const path = [section, id];
    const probe: ParseContext = { issues: [] };
    if (spec.inputs !== undefined) {
      const inputs = inputsSchema.parse(spec.inputs ?? [], path, probe);
      if (inputs) links.inputs.push({ section, id, inputs });
    }
    if (section === "sinks" && spec.fallback !== undefined) {
      const fallback = fallbackSchema.parse(spec.fallback, path, probe);
      if (fallback !== undefined) links.fallbacks.set(id, fallback);
    }
  }
  return links;
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

/**
 * `when_full: block` makes a log call write a full queue synchronously, which a sink whose
 * plugin does not declare `writesSync` cannot do: a log call cannot wait for an asynchronous
 * write. Written out for a memory-buffered sink fed by a `logger` source, that is an error
 * (85 of 100 records in a loop were dropped under it); left unset, such a sink resolves to
 * `drop_newest`, which drops and counts exactly what block could not hold. A disk buffer takes
 * a log call's record synchronously, so it honours block for any sink.
 */
function resolveWhenFull(config: ResolvedConfig, raw: Record<string, unknown>, issues: Issue[]) {
  const loggersOf = (id: string, seen = new Set<string>()): string[] => {
    if (seen.has(id)) return [];
    seen.add(id);
    if (Object.hasOwn(config.sources, id)) {
      return config.sources[id]!.definition.type === "logger" ? [id] : [];
    }
    const processor = Object.hasOwn(config.processors, id) ? config.processors[id] : undefined;
    return (processor?.inputs ?? []).flatMap((input) => loggersOf(input, seen));
  };
  const rawSinks = raw.sinks as Record<string, Record<string, unknown>>;
  for (const [id, sink] of Object.entries(config.sinks)) {
    if (sink.definition.writesSync || sink.buffer.disk) continue;
    const seen = new Set<string>();
    const loggers = sinkInputs(config, id).flatMap((input) => loggersOf(input, seen));
    if (loggers.length === 0) continue;
    const buffer = rawSinks[id]?.buffer;
    const explicit = isPlainObject(buffer) && Object.hasOwn(buffer, "when_full");
    if (!explicit) {
      sink.buffer.when_full = "drop_newest";
      continue;
    }
    if (sink.buffer.when_full !== "block") continue;
    issues.push({
      path: ["sinks", id, "buffer", "when_full"],
      message:
        `when_full "block" cannot hold a log call on sink "${id}": its type "${sink.type}" ` +
        `writes only asynchronously (its plugin declares no writesSync), and logger source ` +
        `${loggers.map((l) => `"${l}"`).join(", ")} feeds it`,
      hint: "use drop_newest or drop_oldest, whose drops are counted and said, " +
        "or a disk buffer (`type: disk`), which a log call appends to",
    });
  }
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

/**
 * The JSON Schema of a whole config, built from the plugins' option schemas, so that editors
 * complete and check the YAML (`sluice schema` prints it).
 *
 * @module
 */

import type { Registry } from "../plugin/registry.ts";
import type { PluginDefinition, PluginKind } from "../plugin/types.ts";
import type { JsonSchema, JsonSchemaContext } from "../schema/schema.ts";
import {
  loggerSchema,
  processorFrameworkSchema,
  serverSchema,
  sinkFrameworkSchema,
} from "./sections.ts";

const DRAFT = "https://json-schema.org/draft/2020-12/schema";
const SECTION_KIND = { sources: "source", processors: "processor", sinks: "sink" } as const;
const ctx: JsonSchemaContext = { formatter: () => ({ $ref: "#/$defs/formatter" }) };

/**
 * Builds a JSON Schema (draft 2020-12) of the whole config from the registry's plugins:
 * each component is a `oneOf` over its kind's types (the `type` constant with that plugin's
 * options and the framework keys, nothing else) plus a `module:` form for plugins of your
 * own, whose options stay open. A `format:` is a formatter's type name, a mapping with its
 * type and options, or a `module:` mapping.
 *
 * `modules` adds the `module:` plugins of a config, each with its own options (`sluice schema
 * --config FILE` passes the ones its sandbox loaded).
 *
 * Point an editor at it, for example with a first line
 * `# yaml-language-server: $schema=sluice.schema.json` after `sluice schema > sluice.schema.json`.
 *
 * @example The sink types are the registry's
 * ```ts
 * import { buildJsonSchema } from "./json_schema.ts";
 * import { Registry } from "../plugin/registry.ts";
 * import { builtinLoaders } from "../../plugins/mod.ts";
 * import assert from "node:assert/strict";
 * const registry = await new Registry([], builtinLoaders).loadAll();
 * const schema = buildJsonSchema(registry) as { $defs: Record<string, { oneOf: unknown[] }> };
 * const types = JSON.stringify(schema.$defs.sink);
 * assert.ok(types.includes('"const":"file"') && types.includes('"module"'));
 * ```
 */
export function buildJsonSchema(
  registry: Registry,
  modules: ReadonlyMap<string, PluginDefinition> = new Map(),
): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  const known = [...modules.keys()].sort();
  for (const kind of ["source", "processor", "sink"] as const) {
    defs[kind] = {
      description: `A ${kind}: a built-in by \`type\`, or your own by \`module\`.`,
      oneOf: [
        ...registry.all(kind).sort(byType).map((definition) => componentSchema(definition)),
        ...modulesOf(kind, modules),
        moduleSchema(kind, known),
      ],
    };
  }
  defs.formatter = formatterSchema(registry, modules, known);

  const section = (name: keyof typeof SECTION_KIND, description: string): JsonSchema => ({
    description,
    anyOf: [
      {
        type: "object",
        propertyNames: { minLength: 1 },
        additionalProperties: { $ref: `#/$defs/${SECTION_KIND[name]}` },
      },
      { type: "null" },
    ],
  });

  const schema: JsonSchema = {
    $schema: DRAFT,
    title: "Sluice config",
    description:
      "A Sluice pipeline: sources, processors and sinks wired by `inputs`, the server, and logger levels.",
    type: "object",
    additionalProperties: false,
    patternProperties: {
      "^x-": { description: "Your own key, ignored by Sluice: a home for YAML anchors." },
    },
    properties: {
      server: {
        description:
          "The Sluice server (health, readiness, metrics, HTTP ingest). Omit to run without one.",
        anyOf: [serverSchema.jsonSchema(ctx), { type: "null" }],
      },
      loggers: {
        description: 'Levels per logger name, as in Python\'s logging; "" is the root logger.',
        anyOf: [
          { type: "object", additionalProperties: loggerSchema.jsonSchema(ctx) },
          { type: "null" },
        ],
      },
      data_dir: {
        type: "string",
        minLength: 1,
        description:
          "State directory for checkpoints and buffers; .sluice next to the config by default.",
      },
      sources: section("sources", "Sources by id: where records come from."),
      processors: section(
        "processors",
        "Processors by id: filter or rewrite what their inputs send.",
      ),
      sinks: section(
        "sinks",
        "Sinks by id: where records go; each with its level, format and queue.",
      ),
    },
    $defs: defs,
  };
  const out = allowEnvReferences(schema) as JsonSchema;
  (out.$defs as Record<string, JsonSchema>).env_reference = {
    type: "string",
    pattern: "\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}",
    description: "A value from the environment: ${VAR} or ${VAR:-default}, checked when loaded.",
  };
  return out;
}

/**
 * Lets every constrained scalar (a number, a boolean, an enum, a pattern) also be a
 * `${VAR}` reference, since expansion happens before validation: `max_records: ${MAX}` is
 * valid YAML for Sluice and must not be flagged by an editor.
 */
function allowEnvReferences(node: unknown, key?: string): unknown {
  if (Array.isArray(node)) return node.map((item) => allowEnvReferences(item));
  if (typeof node !== "object" || node === null) return node;
  const schema = node as JsonSchema;
  if (key === "schema" && constrainedScalar(schema)) {
    const { description, default: fallback, ...rest } = schema;
    const out: JsonSchema = {};
    if (description !== undefined) out.description = description;
    if (fallback !== undefined) out.default = fallback;
    const only = Object.keys(rest).length === 1 && Array.isArray(rest.anyOf);
    out.anyOf = [...(only ? rest.anyOf as JsonSchema[] : [rest]), {
      $ref: "#/$defs/env_reference",
    }];
    return out;
  }
  const out: JsonSchema = {};
  for (const [name, value] of Object.entries(schema)) {
    if (name === "properties" || name === "$defs") {
      out[name] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map((
          [k, v],
        ) => [k, allowEnvReferences(v, "schema")]),
      );
    } else if (name === "items" || name === "additionalProperties") {
      out[name] = allowEnvReferences(value, "schema");
    } else if (name === "anyOf" || name === "oneOf") {
      out[name] = (value as unknown[]).map((item) => allowEnvReferences(item, "schema"));
    } else out[name] = value;
  }
  return out;
}

function constrainedScalar(schema: JsonSchema): boolean {
  if (schema.const !== undefined || schema.$ref !== undefined) return false;
  if (Array.isArray(schema.enum) || typeof schema.pattern === "string") return true;
  const type = schema.type;
  const scalar = (t: unknown) => t === "number" || t === "integer" || t === "boolean";
  if (typeof type === "string") return scalar(type);
  if (Array.isArray(type)) return type.some(scalar) && !type.includes("object");
  if (Array.isArray(schema.anyOf)) {
    return (schema.anyOf as JsonSchema[]).every((member) =>
      constrainedScalar(member) || member.type === "string"
    );
  }
  return false;
}

function byType(a: PluginDefinition, b: PluginDefinition): number {
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

/** The framework keys of a kind as JSON Schema properties, and which are required. */
function framework(
  kind: PluginKind,
): { properties: Record<string, JsonSchema>; required: string[] } {
  const schema = kind === "sink"
    ? sinkFrameworkSchema
    : kind === "processor"
    ? processorFrameworkSchema
    : undefined;
  if (!schema) return { properties: {}, required: [] };
  const json = schema.jsonSchema(ctx);
  return {
    properties: json.properties as Record<string, JsonSchema>,
    required: (json.required as string[] | undefined) ?? [],
  };
}

function componentSchema(definition: PluginDefinition): JsonSchema {
  const options = definition.options.jsonSchema(ctx);
  const fw = framework(definition.kind);
  const required = [
    "type",
    ...((options.required as string[] | undefined) ?? []),
    ...fw.required,
  ];
  return {
    type: "object",
    title: definition.type,
    description: definition.description,
    properties: {
      type: { const: definition.type, description: definition.description },
      ...(options.properties as Record<string, JsonSchema>),
      ...fw.properties,
    },
    required,
    additionalProperties: false,
  };
}

/** The schemas of the known modules of a kind: each one's `module:` value and options. */
function modulesOf(kind: PluginKind, modules: ReadonlyMap<string, PluginDefinition>): JsonSchema[] {
  return [...modules].filter(([, definition]) => definition.kind === kind)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([specifier, definition]) => {
      const schema = componentSchema(definition);
      const properties = schema.properties as Record<string, JsonSchema>;
      properties.type = {
        ...properties.type,
        description: "Optional; the type the module defines.",
      };
      return {
        ...schema,
        title: specifier,
        properties: {
          module: { const: specifier, description: definition.description },
          ...properties,
        },
        required: ["module", ...(schema.required as string[]).filter((key) => key !== "type")],
      };
    });
}

function moduleSchema(kind: PluginKind, known: readonly string[] = []): JsonSchema {
  const fw = framework(kind);
  return {
    type: "object",
    title: "module",
    description:
      `A ${kind} of your own: a module whose default export is made with definePlugin(). Its options are checked when the config loads.`,
    properties: {
      module: {
        type: "string",
        minLength: 1,
        description: "A path relative to the config file, an absolute path, or a URL.",
        ...(known.length > 0 ? { not: { enum: known } } : {}),
      },
      type: { type: "string", description: "Optional; must be the type the module defines." },
      ...fw.properties,
    },
    required: ["module", ...fw.required],
  };
}

function formatterSchema(
  registry: Registry,
  modules: ReadonlyMap<string, PluginDefinition>,
  known: readonly string[],
): JsonSchema {
  const formatters = registry.all("formatter").sort(byType);
  return {
    description: "A formatter: its type name, or a mapping with its type and options.",
    oneOf: [
      {
        type: "string",
        enum: formatters.map((definition) => definition.type),
        description: "A formatter with its default options.",
      },
      ...formatters.map((definition) => componentSchema(definition)),
      ...modulesOf("formatter", modules),
      moduleSchema("formatter", known),
    ],
  };
}

/**
 * The narrowest Deno permissions a config needs to run.
 *
 * @module
 */

// Full npm: specifiers, not import map names: a user's script imports this package from
// anywhere, by path or URL, where no import map names them (tests/package/).
// deno-lint-ignore-file no-import-prefix
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "npm:yaml@^2.9.1";
import type { LoadedConfig } from "../config/load.ts";
import type { PermissionContext, PluginDefinition } from "../plugin/types.ts";
import { type FormatterSpec, isPlainObject } from "../schema/schema.ts";

/** Permissions by kind, plus the components that do not declare theirs. */
export interface ConfigPermissions {
  /** Absolute paths read. */
  read: string[];
  /** Absolute paths written or created. */
  write: string[];
  /** `host:port` or `host`. */
  net: string[];
  /** Environment variable names. */
  env: string[];
  /** `Deno.*` system information names (`hostname`, `osRelease` …). */
  sys: string[];
  /** Hosts remote `module:` plugins are imported from (`--allow-import`). */
  import?: string[];
  /** Sources and sinks whose plugin has no `permissions()` (their needs are unknown). */
  undeclared: string[];
}

/** npm `yaml` reads these debug switches through `process.env` whenever it parses. */
const YAML_DEBUG_VARIABLES = ["LOG_STREAM", "LOG_TOKENS"];
const ENV_REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;
const IMPORT =
  /(?:^|[;\s])(?:import|export)\s(?:[^'"`;]*?\sfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/**
 * Collects what running `loaded` (read from `file`) needs: the config file, every `module:`
 * plugin file and the local files it imports (read), `data_dir` (read and write), the
 * server's listen address (net), every `${VAR}` the YAML references and the two debug
 * switches npm `yaml` reads, `LOG_STREAM` and `LOG_TOKENS` (env), and what each
 * component's plugin declares through `permissions()` (files sinks write and their
 * directories, hosts network plugins reach, variables they read).
 *
 * @example The permissions of a file sink behind a server
 * ```ts
 * import { permissionsOf } from "./permission_flags.ts";
 * import { loadConfig } from "../config/load.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/sluice.yaml`;
 * await Deno.writeTextFile(file, [
 *   "server: { listen: 127.0.0.1:9700 }",
 *   "sinks:",
 *   "  out: { type: file, path: '${LOG_DIR:-logs}/app.log' }",
 * ].join("\n"));
 * const permissions = await permissionsOf(await loadConfig(file, { env: {} }), file);
 * assert.ok(permissions.net[0] === "127.0.0.1:9700");
 * assert.ok(permissions.env.includes("LOG_DIR"));
 * assert.ok(permissions.write.includes(`${dir}/logs`));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function permissionsOf(
  loaded: LoadedConfig,
  file: string,
): Promise<ConfigPermissions> {
  const { config } = loaded;
  const out: ConfigPermissions = {
    read: [],
    write: [],
    net: [],
    env: [],
    sys: [],
    import: [],
    undeclared: [],
  };
  const context: PermissionContext = { baseDir: config.baseDir, dataDir: config.dataDir };
  const configPath = resolve(file);
  out.read.push(configPath, config.dataDir);
  out.write.push(config.dataDir);
  out.env.push(...YAML_DEBUG_VARIABLES);

  if (config.server) {
    const { hostname, port } = config.server;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    // Port 0 binds a free port, which a host:port permission cannot name.
    out.net.push(port === 0 ? host : `${host}:${port}`);
  }

  const raw: unknown = parse(await Deno.readTextFile(configPath));
  walkStrings(raw, (text) => {
    for (const match of text.matchAll(ENV_REFERENCE)) if (match[1]) out.env.push(match[1]);
  });

  const add = (definition: PluginDefinition, options: unknown, label: string) => {
    if (typeof definition.permissions !== "function") {
      // Processors and formatters are pure unless they say otherwise; sources and sinks do I/O.
      if (definition.kind === "source" || definition.kind === "sink") out.undeclared.push(label);
      return;
    }
    const needs = definition.permissions(options as never, context);
    for (const path of needs.read ?? []) out.read.push(resolve(config.baseDir, path));
    for (const path of needs.write ?? []) out.write.push(resolve(config.baseDir, path));
    out.net.push(...needs.net ?? []);
    out.env.push(...needs.env ?? []);
    out.sys.push(...needs.sys ?? []);
  };
  const sections = [
    ["sources", config.sources],
    ["processors", config.processors],
    ["sinks", config.sinks],
  ] as const;
  for (const [section, components] of sections) {
    for (const [id, component] of Object.entries(components)) {
      const label = `${section}.${id} (${component.type})`;
      add(component.definition, component.options, label);
      walkFormatters(component.options, (spec) => {
        const definition = loaded.formatters(spec);
        if (definition) add(definition, spec.options, `${label} format ${spec.type}`);
      });
    }
  }

  if (isPlainObject(raw)) {
    const modules = new Set<string>();
    walkModules(raw, modules);
    for (const specifier of modules) {
      await addModule(specifier, config.baseDir, out, new Set());
    }
  }
  return out;
}

/**
 * Renders permissions as `deno run` flags, paths relative to `cwd` when they are inside
 * it. A directory makes the paths below it redundant, so those are left out.
 *
 * @example
 * ```ts
 * import { permissionFlags } from "./permission_flags.ts";
 * import assert from "node:assert/strict";
 * const flags = permissionFlags({
 *   read: ["/srv/app/sluice.yaml"], write: ["/srv/app/logs", "/srv/app/logs/a"],
 *   net: ["127.0.0.1:9600"], env: ["TOKEN"], sys: [], undeclared: [],
 * }, "/srv/app");
 * assert.ok(flags.join(" ") ===
 *   "--allow-read=sluice.yaml --allow-write=logs --allow-net=127.0.0.1:9600 --allow-env=TOKEN");
 * ```
 */
export function permissionFlags(
  permissions: ConfigPermissions,
  cwd: string = Deno.cwd(),
): string[] {
  const flags: string[] = [];
  const paths = (list: readonly string[]) =>
    minimalPaths(list).map((path) => {
      const rel = relative(cwd, path);
      return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel;
    });
  const push = (name: string, values: readonly string[]) => {
    if (values.length > 0) flags.push(`--allow-${name}=${values.join(",")}`);
  };
  push("read", paths(permissions.read));
  push("write", paths(permissions.write));
  push("net", [...new Set(permissions.net)].sort());
  push("env", [...new Set(permissions.env)].sort());
  push("sys", [...new Set(permissions.sys)].sort());
  push("import", [...new Set(permissions.import ?? [])].sort());
  return flags;
}

/** Sorted, deduplicated, without paths inside another listed path. */
function minimalPaths(list: readonly string[]): string[] {
  const sorted = [...new Set(list.map((p) => resolve(p)))].sort();
  const out: string[] = [];
  for (const path of sorted) {
    if (out.some((parent) => path === parent || path.startsWith(parent + sep))) continue;
    out.push(path);
  }
  return out;
}

function walkStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) { for (const item of value) walkStrings(item, visit); }
  else if (isPlainObject(value)) {
    for (const item of Object.values(value)) {
      walkStrings(item, visit);
    }
  }
}

function walkFormatters(value: unknown, visit: (spec: FormatterSpec) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walkFormatters(item, visit);
    return;
  }
  if (!isPlainObject(value)) return;
  if (typeof value.type === "string" && isPlainObject(value.options)) {
    visit(value as unknown as FormatterSpec);
    walkFormatters(value.options, visit);
    return;
  }
  for (const item of Object.values(value)) walkFormatters(item, visit);
}

function walkModules(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) walkModules(item, found);
  } else if (isPlainObject(value)) {
    if (typeof value.module === "string") found.add(value.module);
    for (const item of Object.values(value)) walkModules(item, found);
  }
}

/** Sluice's own modules, which the CLI has loaded already (importing them needs no read). */
const LOADED = [
  fileURLToPath(new URL("../../mod.ts", import.meta.url)),
  fileURLToPath(new URL("../../src/", import.meta.url)),
  fileURLToPath(new URL("../../plugins/", import.meta.url)),
];

/** A module plugin needs read access to its file and the local files it imports. */
async function addModule(
  specifier: string,
  baseDir: string,
  out: ConfigPermissions,
  seen: Set<string>,
): Promise<void> {
  let path: string;
  if (/^https?:/i.test(specifier)) {
    // Deno 2 imports a remote module with --allow-import for its host (--allow-net does not).
    (out.import ??= []).push(new URL(specifier).host);
    return;
  } else if (/^file:/i.test(specifier)) path = fileURLToPath(specifier);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return; // npm:, jsr: (fetched at load)
  else path = resolve(baseDir, specifier);
  if (seen.has(path) || LOADED.some((loaded) => path.startsWith(loaded))) return;
  seen.add(path);
  out.read.push(path);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return;
  }
  for (const match of text.matchAll(IMPORT)) {
    const target = match[1] ?? match[2];
    if (target && (target.startsWith(".") || target.startsWith("/") || /^file:/i.test(target))) {
      await addModule(target, dirname(path), out, seen);
    } else if (target && /^https?:/i.test(target)) {
      await addModule(target, dirname(path), out, seen);
    }
  }
}

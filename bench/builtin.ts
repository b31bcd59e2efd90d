/**
 * Creates a built-in plugin outside a pipeline, for micro-benchmarks: its options parsed with
 * the schema's defaults, a context whose counters and log do nothing.
 *
 * @module
 */

import {
  type Formatter,
  loadBuiltins,
  type PluginContext,
  type PluginDefinition,
  type Sink,
} from "../mod.ts";
import type { PluginKind } from "../src/plugin/types.ts";

const builtins = await loadBuiltins();

/**
 * The plugin `type` of `kind`, created with `options` (relative paths resolve in `dir`).
 * Throws when the type is not a built-in or rejects its options. Formatters a sink asks for
 * are created the same way. A sink must be created synchronously (the file sinks are).
 */
export function createBuiltin(
  kind: "formatter",
  type: string,
  options?: Record<string, unknown>,
  dir?: string,
): Formatter;
export function createBuiltin(
  kind: "sink",
  type: string,
  options?: Record<string, unknown>,
  dir?: string,
): Sink;
export function createBuiltin(
  kind: "sink" | "formatter",
  type: string,
  options: Record<string, unknown> = {},
  dir: string = Deno.cwd(),
): Formatter | Sink {
  const definition = builtins.find((p) => p.kind === kind && p.type === type) as
    | PluginDefinition<PluginKind>
    | undefined;
  if (!definition) throw new Error(`${kind} "${type}" is not a built-in`);
  const ctx: Parameters<typeof definition.options.parse>[2] = { issues: [] };
  const parsed = definition.options.parse(options, [], ctx);
  if (!parsed || ctx.issues.length > 0) {
    throw new Error(`${kind} "${type}" rejected its options: ${JSON.stringify(ctx.issues)}`);
  }
  const context: PluginContext = {
    id: `bench_${type}`,
    baseDir: dir,
    dataDir: dir,
    createFormatter: (spec) => createBuiltin("formatter", spec.type, spec.options ?? {}, dir),
    counter: () => ({ inc() {}, value: 0 }),
    log: { warnOnce() {}, info() {} },
    signal: new AbortController().signal,
  };
  const created = definition.create(parsed as never, context) as Formatter | Sink | Promise<Sink>;
  if (created instanceof Promise) throw new Error(`${kind} "${type}" is created asynchronously`);
  return created;
}

/**
 * Which components a sink reads: the one rule that both validation and the pipeline use.
 *
 * @module
 */

import type { ResolvedConfig } from "./types.ts";

/**
 * The ids sink `id` reads: its `inputs`, or every source when it lists none, unless it serves
 * as another sink's fallback (then it takes only what is handed to it).
 *
 * @example A sink without inputs reads every source
 * ```ts
 * import { sinkInputs } from "./sink_inputs.ts";
 * import { loadConfig } from "./load.ts";
 * import assert from "node:assert/strict";
 * const { config } = await loadConfig({
 *   sources: { a: { type: "logger" }, b: { type: "logger" } },
 *   sinks: { all: { type: "memory" }, only_a: { type: "memory", inputs: ["a"] } },
 * });
 * assert.ok(sinkInputs(config, "all").join() === "a,b");
 * assert.ok(sinkInputs(config, "only_a").join() === "a");
 * ```
 */
export function sinkInputs(config: ResolvedConfig, id: string): readonly string[] {
  const sink = config.sinks[id];
  if (sink === undefined) return [];
  if (sink.inputs.length > 0) return sink.inputs;
  const isFallback = Object.values(config.sinks).some((other) => other.fallback === id);
  return isFallback ? [] : Object.keys(config.sources);
}

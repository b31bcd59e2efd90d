/**
 * The families every Prometheus client exposes about its process, and Sluice's build info.
 *
 * @module
 */

import process from "node:process";
import denoJson from "../../deno.json" with { type: "json" };

/**
 * Prometheus' standard process families (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`, `process_start_time_seconds`) and
 * `sluice_build_info{version}`, in text format, to follow the pipeline's own families on
 * `/metrics`. They need no permission: the resident size is `Deno.memoryUsage().rss` (read from
 * `/proc/self/statm` on Linux), the CPU time `getrusage` through `process.cpuUsage()`, the start
 * time the runtime's time origin.
 *
 * @example The families of this process
 * ```ts
 * import { renderProcessMetrics } from "./process_metrics.ts";
 * import assert from "node:assert/strict";
 * const text = renderProcessMetrics();
 * assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
 * assert.match(text, /^process_resident_memory_bytes \d+$/m);
 * assert.match(text, /^sluice_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1$/m);
 * ```
 */
export function renderProcessMetrics(): string {
  const cpu = process.cpuUsage();
  return [
    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
    "# TYPE process_cpu_seconds_total counter",
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    "# HELP process_resident_memory_bytes Resident memory size in bytes.",
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${Deno.memoryUsage().rss}`,
    "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
    "# TYPE process_start_time_seconds gauge",
    `process_start_time_seconds ${Math.round(performance.timeOrigin) / 1000}`,
    "# HELP sluice_build_info Sluice's version; the value is always 1.",
    "# TYPE sluice_build_info gauge",
    `sluice_build_info{version="${denoJson.version}"} 1`,
    "",
  ].join("\n");
}

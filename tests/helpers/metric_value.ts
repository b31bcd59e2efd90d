/**
 * Reading one value out of a Prometheus text exposition, for tests against `/metrics`.
 *
 * @module
 */

/**
 * The sum of the samples of `name` whose labels include `match` (0 when there is none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricValue } from "./metric_value.ts";
 * const text = 'a_total{reason="x"} 2\na_total{reason="y"} 3\nb 1\n';
 * assert.equal(metricValue(text, "a_total"), 5);
 * assert.equal(metricValue(text, "a_total", { reason: "y" }), 3);
 * ```
 */
export function metricValue(
  text: string,
  name: string,
  match: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    const labels = rest[0] === "{" ? rest.slice(1, rest.indexOf("}")) : "";
    const ok = Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`));
    if (ok) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

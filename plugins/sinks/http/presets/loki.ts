/**
 * The `loki` preset of the `http` sink: Grafana Loki's push API.
 *
 * @module
 */

import type { LogRecord } from "../../../../src/core/record.ts";
import type { Formatter } from "../../../../src/plugin/types.ts";
import { wellFormedJson } from "../../../../src/core/well_formed_json.ts";
import { otelNanos } from "../../../../src/format/otel_mapping.ts";
import { ecsLevel } from "../../../../src/format/ecs_mapping.ts";
import type { HttpPreset } from "./preset.ts";
import { getOwn } from "../../../../src/core/get_own.ts";

const decoder = new TextDecoder();

/** Options of {@linkcode lokiPreset}. */
export interface LokiOptions {
  /**
   * Label names taken from each record: `level` (its name, lower case), `logger`, or a field
   * name (`service`, `env` …). A record without the field has no such label.
   */
  labels: readonly string[];
  /** Labels every stream carries, such as `job: sluice`. */
  staticLabels: Readonly<Record<string, string>>;
}

/**
 * Loki's push body (`POST /loki/api/v1/push`, `application/json`): records grouped into
 * `streams` by their label set, each with `values` of `[nanoseconds as a string, line]` in
 * record order. Label names are made valid (`[a-zA-Z_][a-zA-Z0-9_]*`, other characters become
 * `_`); empty values are left out (Loki ignores them).
 *
 * @example Two records, two streams
 * ```ts
 * import { lokiPreset } from "./loki.ts";
 * import { createRecord } from "../../../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const preset = lokiPreset({ labels: ["level"], staticLabels: { job: "api" } }, (r) => r.message);
 * const records = [createRecord({ time: 1, message: "a" }), createRecord({ time: 2, level: 40, message: "b" })];
 * const body = JSON.parse(preset.body(records.map(preset.item), records));
 * assert.ok(body.streams.length === 2 && body.streams[0].values[0][0] === "1000000");
 * assert.ok(body.streams[1].stream.level === "error" && body.streams[1].stream.job === "api");
 * ```
 */
export function lokiPreset(options: LokiOptions, format: Formatter): HttpPreset {
  const names = options.labels.map((name) => [name, labelName(name)] as const);
  const fixed: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.staticLabels)) {
    if (value !== "") fixed[labelName(key)] = value;
  }
  const labelsOf = (record: LogRecord): Record<string, string> => {
    const labels: Record<string, string> = { ...fixed };
    for (const [name, label] of names) {
      let value: unknown;
      if (name === "level") value = ecsLevel(record.level);
      else if (name === "logger") value = record.logger;
      else value = getOwn(record.fields, name);
      if (value === undefined || value === null) continue;
      const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
      if (text !== "") labels[label] = text;
    }
    return labels;
  };
  return {
    contentType: "application/json",
    overhead: 32,
    item(record) {
      const out = format(record);
      const line = typeof out === "string" ? out : decoder.decode(out);
      return "[" + JSON.stringify(otelNanos(record.time)) + "," +
        wellFormedJson(JSON.stringify(line)) +
        "]";
    },
    body(items, records) {
      const streams = new Map<string, { labels: Record<string, string>; values: string[] }>();
      for (let i = 0; i < items.length; i++) {
        const labels = labelsOf(records[i]!);
        const key = wellFormedJson(JSON.stringify(labels));
        let stream = streams.get(key);
        if (!stream) streams.set(key, stream = { labels, values: [] });
        stream.values.push(items[i]!);
      }
      let out = "";
      for (const [key, stream] of streams) {
        if (out) out += ",";
        out += '{"stream":' + key + ',"values":[' + stream.values.join(",") + "]}";
      }
      return '{"streams":[' + out + "]}";
    },
  };
}

function labelName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(clean) ? "_" + clean : clean || "_";
}

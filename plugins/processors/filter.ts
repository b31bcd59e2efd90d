/**
 * The `filter` processor: passes records by level, logger and field values.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { recordGetter } from "../../src/core/record_getter.ts";
import { s } from "../../src/schema/schema.ts";

/** A scalar a field is compared with. */
type Scalar = string | number | boolean | null;

const scalar = s.custom<Scalar>(
  (value) =>
    value === null || typeof value === "string" || typeof value === "number" ||
      typeof value === "boolean"
      ? value
      : undefined,
  "a string, number, boolean or null",
  { type: ["string", "number", "boolean", "null"] },
);

const pattern = s.custom<RegExp>(
  (value) => {
    if (typeof value !== "string") return undefined;
    try {
      return new RegExp(value);
    } catch {
      return undefined;
    }
  },
  "a regular expression",
  { type: "string", format: "regex" },
);

/**
 * Passes a record when every condition given holds, then applies `invert`:
 *
 * - `level`: at least this level.
 * - `logger`: one or more logger names with dotted-prefix semantics: `payment` matches
 *   `payment` and `payment.db`, not `payments`; `""` matches every logger.
 * - `fields`: `{key: value}`; the field must equal the value. Values compare as text, so
 *   `status: 500` matches both `500` and `"500"` (Python peers send every extra as text);
 *   `null` matches a missing field.
 * - `regex`: `{key: pattern}`; the field's text must match the JavaScript pattern.
 *
 * In `fields` and `regex`, the keys `message` and `logger` name the record's own message
 * and logger (a field of that name is reached as `fields.message`), `trace_id` and `span_id`
 * the record's span; any other key names a field, and a dotted key such as `python.module` reaches into an object field when no field
 * has the dotted name itself. `invert: true` drops what matches and passes the rest. Every
 * condition is compiled once; a dropped record is counted as
 * `sluice_records_filtered_total{component}`.
 *
 * @example YAML
 * ```ts
 * import { parseConfigText } from "../../src/config/load.ts";
 * import assert from "node:assert/strict";
 * const yaml = `
 * sources:
 *   app: { type: logger }
 * processors:
 *   errors:   { type: filter, inputs: [app], level: error }
 *   payments: { type: filter, inputs: [app], logger: [payment, billing], fields: { env: prod } }
 *   no_noise: { type: filter, inputs: [app], regex: { message: "^healthcheck" }, invert: true }
 * sinks:
 *   alerts: { type: file, inputs: [errors], path: logs/errors.log, format: json }
 *   payments_log: { type: file, inputs: [payments], path: logs/payments.log }
 *   quiet: { type: console, inputs: [no_noise] }
 * `;
 * const { config } = await parseConfigText(yaml, "filter.yaml");
 * assert.ok(config.processors.errors?.options.level === 40);
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "filter",
  description: "Passes records by minimum level, logger prefix and field values (or the opposite).",
  options: s.object({
    level: s.level().optional().describe("Minimum level that passes."),
    logger: s.array(s.string(), { single: true }).optional().describe(
      "Logger names that pass, with their descendants (payment matches payment.db).",
    ),
    fields: s.map(scalar).optional().describe("Field values that must match (compared as text)."),
    regex: s.map(pattern).optional().describe("Patterns the fields' text must match."),
    invert: s.boolean().default(false).describe("Drop what matches and pass the rest."),
  }),
  create(options) {
    const checks: ((record: LogRecord) => boolean)[] = [];
    const level = options.level;
    if (level !== undefined) checks.push((record) => record.level >= level);
    if (options.logger !== undefined) checks.push(loggerCheck(options.logger));
    for (const [key, expected] of Object.entries(options.fields ?? {})) {
      const get = recordGetter(key);
      if (expected === null) checks.push((record) => get(record) == null);
      else {
        const text = String(expected);
        checks.push((record) => textOf(get(record)) === text);
      }
    }
    for (const [key, regex] of Object.entries(options.regex ?? {})) {
      const get = recordGetter(key);
      checks.push((record) => {
        const value = textOf(get(record));
        return value !== undefined && regex.test(value);
      });
    }
    const invert = options.invert;
    const n = checks.length;
    if (n === 1) {
      const check = checks[0]!;
      return (record) => (check(record) !== invert ? record : null);
    }
    return (record) => {
      let pass = true;
      for (let i = 0; i < n; i++) {
        if (!checks[i]!(record)) {
          pass = false;
          break;
        }
      }
      return pass !== invert ? record : null;
    };
  },
});

function loggerCheck(names: readonly string[]): (record: LogRecord) => boolean {
  if (names.includes("")) return () => true;
  const exact = new Set(names);
  const prefixes = names.map((name) => name + ".");
  return (record) => {
    const logger = record.logger;
    if (exact.has(logger)) return true;
    for (let i = 0; i < prefixes.length; i++) if (logger.startsWith(prefixes[i]!)) return true;
    return false;
  };
}

function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * An example processor plugin: masks the values of sensitive fields.
 *
 * Use it from YAML with `module: ./plugins/redact.ts` (see config/examples/custom_plugin.yaml
 * and docs/plugins.md). In your own project, import from the published package
 * (`jsr:@sluice/sluice`) instead of the relative path below.
 *
 * @module
 */

import { definePlugin, type LogRecord, s } from "../../../mod.ts";

/**
 * Replaces the value of every field named in `keys` (at any depth of `fields`) with `mask`,
 * keeping the key so readers see that a value was there. Returns a new record and never
 * changes the one it was given (the same record may be on its way to other sinks).
 *
 * @example Redact a password
 * ```ts
 * import redact from "./redact.ts";
 * import { createRecord } from "../../../mod.ts";
 * const options = redact.options.parse({ keys: ["password"] }, [], { issues: [] })!;
 * const context = { counter: () => ({ inc() {}, value: 0 }) };
 * const process = await redact.create(options, context as never);
 * const out = process(createRecord({ message: "login", fields: { user: "ada", password: "x" } }));
 * console.assert(out?.fields.password === "[redacted]" && out.fields.user === "ada");
 * ```
 */
export default definePlugin({
  kind: "processor",
  type: "redact",
  description: "Masks the values of sensitive fields, at any depth.",
  options: s.object({
    keys: s.array(s.string({ minLength: 1 }), { single: true, minItems: 1 })
      .default(["password", "token", "secret", "authorization"])
      .describe("Field names whose values are masked (compared without case)."),
    mask: s.string().default("[redacted]").describe("What replaces each value."),
  }),
  create(options, context) {
    const keys = new Set(options.keys.map((key) => key.toLowerCase()));
    const { mask } = options;
    const masked = context.counter(
      "redacted_fields_total",
      "Field values the redact plugin masked.",
    );
    // Copies only the objects on the way to a masked value; everything else is shared.
    const scrub = (value: unknown, depth: number): unknown => {
      if (depth > 16 || typeof value !== "object" || value === null) return value;
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item = scrub(value[i], depth + 1);
          if (item !== value[i]) (copy ??= [...value])[i] = item;
        }
        return copy ?? value;
      }
      let copy: Record<string, unknown> | undefined;
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key];
        const next = keys.has(key.toLowerCase()) ? mask : scrub(item, depth + 1);
        if (next !== item) {
          copy ??= { ...(value as Record<string, unknown>) };
          copy[key] = next;
          if (next === mask) masked.inc();
        }
      }
      return copy ?? value;
    };
    return (record: LogRecord): LogRecord => {
      const fields = scrub(record.fields, 0) as Record<string, unknown>;
      if (fields === record.fields) return record;
      const out: LogRecord = {
        time: record.time,
        level: record.level,
        logger: record.logger,
        message: record.message,
        fields,
      };
      if (record.error !== undefined) out.error = record.error;
      return out;
    };
  },
});

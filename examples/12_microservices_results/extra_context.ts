/**
 * A formatter plugin of your own: slide 12's printout, a record's line followed by its
 * "Extra context" (the fields, then the trace ids). `sluice.yaml` beside it loads it with
 * `format: { module: ./extra_context.ts }`.
 *
 * A formatter is `definePlugin({ kind: "formatter", ... })` whose `create(options)` compiles
 * the options once and returns `(record) => string`: one entry without the final newline.
 * Its options are a schema (`s.object`), so `sluice check` validates them like a built-in's.
 * In your own project, import from the published package instead of `../../mod.ts`.
 *
 * @module
 */

import { definePlugin, type LogRecord, s } from "../../mod.ts";

/** Slide 12's time: `2024-11-17 10:30:45,123` (UTC here, so the output is the same anywhere). */
function asctime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)}`;
}

/** Writes `<time> - <logger> - [<trace id>] - <message>` and an `Extra context:` list. */
export default definePlugin({
  kind: "formatter",
  type: "extra_context",
  description: "A record's line followed by its fields and trace ids, one per line.",
  options: s.object({
    heading: s.string().default("Extra context:").describe("The line before the list."),
  }),
  create(options) {
    return (record: LogRecord): string => {
      const trace = { trace_id: record.trace_id, span_id: record.span_id };
      const lines = [
        `${asctime(record.time)} - ${record.logger} - [${trace.trace_id}] - ${record.message}`,
        options.heading,
      ];
      for (const [key, value] of Object.entries({ ...record.fields, ...trace })) {
        if (value !== undefined) lines.push(`- ${key}: ${value}`);
      }
      return lines.join("\n");
    };
  },
});

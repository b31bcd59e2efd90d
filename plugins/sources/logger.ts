/**
 * The `logger` source: records from `getLogger()` calls in this process.
 *
 * @module
 */

import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";
import type { Attachment } from "../../src/logger/manager.ts";
import { attachLogger } from "../../src/logger/attach.ts";

/**
 * Attaches to the logger hierarchy at `logger` (the root by default) like a Python handler:
 * it receives records of that logger and its descendants that propagate up to it.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sources:
 *   app: { type: logger }
 *   payments: { type: logger, logger: payment }
 * sinks:
 *   out: { type: console }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.equal(config.sources.payments?.options.logger, "payment");
 * ```
 */
export default definePlugin({
  kind: "source",
  type: "logger",
  description: "Records from getLogger() calls in this process.",
  options: s.object({
    logger: s.string().default("").describe('The logger name to attach to; "" is the root.'),
  }),
  permissions: () => ({}),
  create(options, context) {
    let detach: (() => void) | undefined;
    const attachment: Attachment = {
      name: options.logger,
      push: (record) => context.push(record),
      get minLevel() {
        return context.minLevel;
      },
    };
    return {
      start() {
        detach = attachLogger(attachment, context.owner);
      },
      [Symbol.asyncDispose]() {
        detach?.();
        detach = undefined;
        return Promise.resolve();
      },
    };
  },
});

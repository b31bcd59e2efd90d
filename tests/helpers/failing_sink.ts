/**
 * A test sink whose every write throws: a sink that is failing for real, for readiness
 * and fallback tests. Usable by `module:` from a config file.
 *
 * @module
 */

import { definePlugin, s } from "../../mod.ts";

/** The `failing` sink: `write` always throws an `Error` with `message`. */
export default definePlugin({
  kind: "sink",
  type: "failing",
  description: "A sink whose writes always throw (for tests).",
  options: s.object({
    message: s.string().default("disk on fire").describe("The error message writes throw."),
  }),
  create(options) {
    return {
      write() {
        throw new Error(options.message);
      },
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  },
});

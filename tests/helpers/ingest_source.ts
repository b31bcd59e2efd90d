/**
 * A minimal ingest source for server tests that must not depend on the `http` source:
 * its route takes one message per body line and answers 202 with the count, after the
 * pipeline accepted the batch. `fail: true` makes the route throw instead.
 *
 * @module
 */

import { createRecord, definePlugin, s } from "../../mod.ts";

/** The `test_ingest` source. */
export default definePlugin({
  kind: "source",
  type: "test_ingest",
  description: "One record per body line on a POST route (for tests).",
  needsServer: true,
  options: s.object({
    path: s.string().default("/ingest").describe("The route."),
    fail: s.boolean().default(false).describe("Throw from the route handler."),
  }),
  create(options, context) {
    return {
      routes: [{
        methods: ["POST"],
        path: options.path,
        async handle(request: Request): Promise<Response> {
          const text = await request.text();
          if (options.fail) {
            throw new Error(`internal detail: ${text.length} bytes at /srv/secret/path`);
          }
          const records = text.split("\n").filter((line) => line !== "").map((message) =>
            createRecord({ message, logger: "ingest", level: 20 })
          );
          await context.emit(records);
          return Response.json({ accepted: records.length }, { status: 202 });
        },
      }],
      start() {},
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  },
});

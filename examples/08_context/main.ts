/**
 * Slide 8, "Implementing Structured Logging with Context": a `ContextLogger` whose
 * `with logger.context(request_id=...)` puts the request id on every record inside, with
 * `NO_REQUEST` outside, through thread-local storage.
 *
 * In Sluice, `withContext(fields, fn)` does this for every logger, and the context follows
 * the code across `await`s (thread-locals do not follow asyncio tasks; Sluice's context is an
 * AsyncLocalStorage). Nested contexts merge and are restored on exit, as the slide's
 * `old_context` dance does by hand. The pattern's default (`defaults: { request_id:
 * NO_REQUEST }`, Python's `Formatter(defaults=...)`) prints for records logged outside any
 * context. The fields also reach every JSON or database sink as real fields.
 *
 * Run: `deno run -A examples/08_context/main.ts`
 *
 * @module
 */

import { configure, getLogger, shutdown, withContext } from "../../mod.ts";

await configure({
  loggers: { structured_logger: "info" },
  sources: { app: { type: "logger" } },
  sinks: {
    console: {
      type: "console",
      inputs: ["app"],
      stream: "stdout",
      format: {
        type: "text",
        pattern: "%(asctime)s - [%(request_id)s] - %(levelname)s - %(message)s",
        defaults: { request_id: "NO_REQUEST" },
      },
    },
  },
});

const logger = getLogger("structured_logger");

async function processRequest(request_id: string, data: Record<string, string>) {
  await withContext({ request_id }, async () => {
    logger.info(`Processing request with data: ${JSON.stringify(data)}`);
    await Promise.resolve(); // an await in between: the context stays
    processSubtask(data);
  });
}

function processSubtask(data: Record<string, string>) {
  logger.info(`Processing subtask: ${JSON.stringify(data)}`);
}

logger.info("Server ready");
await processRequest("REQ123", { user: "john", action: "login" });
// Two requests at once, interleaved: each record keeps its own request's id.
await Promise.all([
  processRequest("REQ124", { user: "ada", action: "pay" }),
  processRequest("REQ125", { user: "bob", action: "logout" }),
]);
await shutdown();

// Output (time digits aside):
// 2024-11-17 10:15:30,123 - [NO_REQUEST] - INFO - Server ready
// 2024-11-17 10:15:30,124 - [REQ123] - INFO - Processing request with data: {"user":"john","action":"login"}
// 2024-11-17 10:15:30,124 - [REQ123] - INFO - Processing subtask: {"user":"john","action":"login"}
// 2024-11-17 10:15:30,125 - [REQ124] - INFO - Processing request with data: {"user":"ada","action":"pay"}
// 2024-11-17 10:15:30,125 - [REQ125] - INFO - Processing request with data: {"user":"bob","action":"logout"}
// 2024-11-17 10:15:30,125 - [REQ124] - INFO - Processing subtask: {"user":"ada","action":"pay"}
// 2024-11-17 10:15:30,125 - [REQ125] - INFO - Processing subtask: {"user":"bob","action":"logout"}

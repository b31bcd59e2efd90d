/**
 * Slide 6, "Implementing JSON Logging Format": a `JSONFormatter` with timestamp, level, logger,
 * module, function, line, message, the `extra` data and the exception.
 *
 * In Sluice, `format: json` is built in, with stable names: `time`, `level`, `logger`,
 * `message`, `caller` (file, line, column, function, module: the loggers' `caller: true`),
 * the fields merged at the top level (`extra=` is the second argument of a log call) and
 * `error` with name, message, stack and the cause chain. `keys:` renames the core keys
 * (`time: timestamp` below, the slide's name); `naming: ecs` and `naming: otel` write Elastic's
 * and OpenTelemetry's schemas instead.
 *
 * Run: `deno run -A examples/06_json_format/main.ts [directory]`
 *
 * @module
 */

import { configure, getLogger, shutdown } from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-06-" });
const path = `${dir}/application.json.log`;

await configure({
  loggers: { json_logger: { level: "info", caller: true } },
  sources: { app: { type: "logger" } },
  sinks: {
    json: {
      type: "file",
      inputs: ["app"],
      path,
      format: { type: "json", keys: { time: "timestamp" } },
    },
    // The same records as Elastic Common Schema 8, for Elasticsearch or Kibana.
    ecs: {
      type: "file",
      inputs: ["app"],
      path: `${dir}/application.ecs.log`,
      format: { type: "json", naming: "ecs", service: "login-service" },
    },
  },
});

const logger = getLogger("json_logger");

function login(user_id: string, ip_address: string) {
  // extra={'extra_data': extra}: fields are the second argument, merged at the top level.
  logger.info("User login successful", { user_id, ip_address });
}
login("12345", "192.168.1.1");

try {
  JSON.parse("{not json");
} catch (error) {
  // exc_info=True: give the Error itself; its stack and cause chain are kept.
  logger.error("Session store unreadable", { error, user_id: "12345" });
}
await shutdown();

for (const file of [path, `${dir}/application.ecs.log`]) {
  console.log(`--- ${file.slice(dir.length + 1)}`);
  for (const line of (await Deno.readTextFile(file)).trimEnd().split("\n")) {
    // Shortened for the screen: the stack and the absolute path.
    const doc = JSON.parse(
      line,
      (key, value) =>
        key === "stack" || key === "error.stack_trace"
          ? "…"
          : key === "file" || key === "log.origin.file.name"
          ? value.slice(value.lastIndexOf("/") + 1)
          : value,
    );
    console.log(JSON.stringify(doc));
  }
}
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output (time digits aside):
// --- application.json.log
// {"timestamp":"2024-11-17T10:15:30.123Z","level":"INFO","logger":"json_logger","message":"User login successful","caller":{"file":"main.ts","line":46,"column":10,"function":"login","module":"main"},"user_id":"12345","ip_address":"192.168.1.1"}
// {"timestamp":…,"level":"ERROR",…,"message":"Session store unreadable",…,"error":{"name":"SyntaxError","message":"…","stack":"…"}}
// --- application.ecs.log
// {"@timestamp":…,"log.level":"info",…,"service.name":"login-service",…,"fields":{"user_id":"12345","ip_address":"192.168.1.1"}}

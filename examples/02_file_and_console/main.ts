/**
 * Slide 2, "Implementing File and Console Logging Simultaneously": one logger, two handlers,
 * each with its own level and formatter.
 *
 * In Sluice, handlers are sinks. Every sink names its `inputs`, has its own `level` and its
 * own `format`; the logger's level (`dual_logger: debug`) decides what is built at all. The
 * file sink creates its directory and writes one line per record.
 *
 * Run: `deno run -A examples/02_file_and_console/main.ts [directory]`
 *
 * @module
 */

import { configure, getLogger, shutdown } from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-02-" });
const path = `${dir}/application.log`;

await configure({
  loggers: { "": "warn", dual_logger: "debug" }, // logger.setLevel(logging.DEBUG)
  sources: { app: { type: "logger" } },
  sinks: {
    // FileHandler('application.log') at INFO with the long format.
    file: {
      type: "file",
      inputs: ["app"],
      path,
      level: "info",
      format: { type: "text", pattern: "%(asctime)s - %(name)s - %(levelname)s - %(message)s" },
    },
    // StreamHandler(sys.stdout) at DEBUG with the short format.
    console: {
      type: "console",
      inputs: ["app"],
      stream: "stdout",
      level: "debug",
      format: { type: "text", pattern: "%(levelname)s - %(message)s" },
    },
  },
});

const logger = getLogger("dual_logger");
logger.debug("Debug message - console only");
logger.info("Info message - both console and file");
logger.error("Error message - both console and file");
await shutdown(); // both sinks drained: the file holds its lines now

console.log(`--- ${path}:`);
console.log((await Deno.readTextFile(path)).trimEnd());
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output:
// DEBUG - Debug message - console only
// INFO - Info message - both console and file
// ERROR - Error message - both console and file
// --- /tmp/sluice-02-…/application.log:
// 2024-11-17 10:15:30,123 - dual_logger - INFO - Info message - both console and file
// 2024-11-17 10:15:30,124 - dual_logger - ERROR - Error message - both console and file

/**
 * Slide 1, "Understanding Python Logging Fundamentals": `logging.basicConfig(level=INFO,
 * format=...)` and one call per level.
 *
 * In Sluice, `configure()` takes what a YAML file holds (here as an object): the levels per
 * logger, where records come from (`logger`: this process's `getLogger()` calls) and where
 * they go (a `console` sink). A `%(name)s`-style pattern prints what Python's
 * `logging.Formatter` prints, so the output below is the slide's, time digits aside.
 *
 * Run: `deno run -A examples/01_basic_config/main.ts`
 *
 * @module
 */

import { configure, getLogger, shutdown } from "../../mod.ts";

await configure({
  // basicConfig(level=logging.INFO): the root logger "" at info.
  loggers: { "": "info" },
  sources: { app: { type: "logger" } },
  sinks: {
    // basicConfig's StreamHandler writes to stderr; stdout here, so the output pipes easily.
    console: {
      type: "console",
      inputs: ["app"],
      stream: "stdout",
      format: { type: "text", pattern: "%(asctime)s - %(name)s - %(levelname)s - %(message)s" },
    },
  },
});

// logging.getLogger(__name__): any dotted name; "__main__" to match the slide.
const logger = getLogger("__main__");

logger.debug("Debug message - detailed information for debugging"); // below info: dropped
logger.info("Info message - confirmation that things are working");
logger.warning("Warning message - something unexpected happened"); // warn() works too
logger.error("Error message - serious problem");
logger.critical("Critical message - program may not be able to continue");

// A log call never awaits; shutdown() drains every sink before the program ends.
await shutdown();

// Output:
// 2024-11-17 10:15:30,123 - __main__ - INFO - Info message - confirmation that things are working
// 2024-11-17 10:15:30,124 - __main__ - WARNING - Warning message - something unexpected happened
// 2024-11-17 10:15:30,125 - __main__ - ERROR - Error message - serious problem
// 2024-11-17 10:15:30,126 - __main__ - CRITICAL - Critical message - program may not be able to continue

/**
 * Slide 4, "Time-Based Rotating Logs": `TimedRotatingFileHandler(when='midnight', interval=1,
 * backupCount=7)`.
 *
 * In Sluice, the same `rotating_file` sink with `when:`. Rotation instants and names are
 * CPython's (a test compares them with python3's), including the first rollover after a
 * restart, which is computed from the existing file's modification time. That is what this
 * example uses to show a midnight rotation without waiting for midnight: it logs a day, moves
 * the file's modification time back by a day (as if the night had passed with the program
 * stopped), and logs again. The file of yesterday is renamed `timed_rotating.log.<its date>`.
 *
 * Run: `deno run -A examples/04_timed_rotation/main.ts [directory]`
 *
 * @module
 */

import { configure, getLogger, shutdown } from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-04-" });
const path = `${dir}/timed_rotating.log`;

/** One run of the program: configure, log, drain. */
async function run(messages: [level: "info" | "warning" | "error", text: string][]) {
  await configure({
    loggers: { timed_rotating_logger: "info" },
    sources: { app: { type: "logger" } },
    sinks: {
      timed: {
        type: "rotating_file",
        inputs: ["app"],
        path,
        when: "midnight", // rotate at midnight, local time (utc: true for UTC)
        interval: 1, // every day
        backups: 7, // keep 7 days of logs
        format: { type: "text", pattern: "%(asctime)s - %(name)s - %(levelname)s - %(message)s" },
      },
    },
  });
  const logger = getLogger("timed_rotating_logger");
  for (const [level, text] of messages) logger[level](text);
  await shutdown();
}

await run([["info", "Application started"], ["warning", "System resources running low"]]);

// The night passes while the program is stopped.
const yesterday = new Date(Date.now() - 86_400_000);
await Deno.utime(path, yesterday, yesterday);

await run([["info", "Application started"], ["error", "Database connection failed"]]);

const names = [];
for await (const entry of Deno.readDir(dir)) names.push(entry.name);
for (const name of names.filter((n) => n.startsWith("timed_rotating.log")).sort().reverse()) {
  console.log(`--- ${name}`);
  console.log((await Deno.readTextFile(`${dir}/${name}`)).trimEnd());
}
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output (the rotated file is named after the day it covers):
// --- timed_rotating.log.2024-11-16
// 2024-11-17 10:15:30,123 - timed_rotating_logger - INFO - Application started
// 2024-11-17 10:15:30,124 - timed_rotating_logger - WARNING - System resources running low
// --- timed_rotating.log
// 2024-11-17 10:15:30,201 - timed_rotating_logger - INFO - Application started
// 2024-11-17 10:15:30,202 - timed_rotating_logger - ERROR - Database connection failed

/**
 * Slide 3, "Rotating File Handler Implementation": `RotatingFileHandler(maxBytes, backupCount)`
 * and 10,000 records.
 *
 * In Sluice, the `rotating_file` sink. Rotated files get Python's names (`rotating_log.log.1`
 * is the newest backup, `.5` the oldest), so tools written for Python's files keep working.
 * A rotation happens between records, never inside one, and the write path never waits for
 * it. The slide's 1 MiB limit would not be reached by 10,000 lines of ~80 bytes, so this
 * example rotates at 100 KiB to show the rotation happen.
 *
 * Run: `deno run -A examples/03_rotating_file/main.ts [directory]`
 *
 * @module
 */

import { configure, getLogger, shutdown } from "../../mod.ts";

const dir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "sluice-03-" });

await configure({
  loggers: { rotating_logger: "info" },
  sources: { app: { type: "logger" } },
  sinks: {
    rotating: {
      type: "rotating_file",
      inputs: ["app"],
      path: `${dir}/rotating_log.log`,
      max_bytes: "100KiB", // maxBytes=1024 * 1024 on the slide; sizes take units
      backups: 5, // backupCount=5: the sixth-oldest file is deleted
      format: { type: "text", pattern: "%(asctime)s - %(levelname)s - %(message)s" },
    },
  },
});

const logger = getLogger("rotating_logger");
for (let i = 0; i < 10_000; i++) {
  // A template literal is the f-string; the tagged form logger.info`...` keeps the values too.
  logger.info(`Log entry ${i}: Some detailed information that takes up space`);
}
await shutdown();

// What is left: the live file and five backups, none larger than 100 KiB.
const files = [];
for await (const entry of Deno.readDir(dir)) {
  if (entry.name.startsWith("rotating_log.log")) files.push(entry.name);
}
const order = (name: string) => Number(name.split(".").at(-1)) || 0;
for (const name of files.sort((a, b) => order(a) - order(b))) {
  const text = await Deno.readTextFile(`${dir}/${name}`);
  const first = text.slice(0, text.indexOf("\n")).replace(/^.*? - INFO - /, "");
  console.log(`${name.padEnd(20)} ${text.length.toString().padStart(6)} bytes, from "${first}"`);
}
if (!Deno.args[0]) await Deno.remove(dir, { recursive: true });

// Output (the same on every run: each line is 95 bytes, 1,077 lines fill a file):
// rotating_log.log      28025 bytes, from "Log entry 9705: Some detailed information that takes up space"
// rotating_log.log.1   102315 bytes, from "Log entry 8628: Some detailed information that takes up space"
// ...
// rotating_log.log.5   102315 bytes, from "Log entry 4320: Some detailed information that takes up space"

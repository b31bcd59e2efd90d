/**
 * Two real `sluice run` processes on one rotating file: the second refuses to start, naming
 * the file and the first's pid, and leaves the first's work directory and spare files alone;
 * once the first is SIGKILLed the kernel releases its lock, and the next start sweeps what it
 * left.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI_MAIN, DENO_JSON, startSluice, withConfig } from "../../../helpers/sluice_process.ts";
import { metricValue } from "../../../helpers/metric_value.ts";
import { postRecords } from "../../../helpers/post_records.ts";

const YAML = `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http }
sinks:
  out: { type: rotating_file, inputs: [ingest], path: logs/app.log, format: json, max_bytes: 16KiB, backups: 3 }
`;

/** Polls `read` until `done` holds of what it returns (10 s at most). */
async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`not reached: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The work directories in `logs` and what each holds, sorted. */
function workDirs(logs: string): Record<string, string[]> {
  const dirs: Record<string, string[]> = {};
  for (const entry of Deno.readDirSync(logs)) {
    if (!/^\.app\.log\.sluice-[0-9a-f]{16}\.tmp$/.test(entry.name)) continue;
    dirs[entry.name] = [...Deno.readDirSync(join(logs, entry.name))].map((e) => e.name).sort();
  }
  return dirs;
}

Deno.test("rotating_file: a second sluice run on the same file refuses to start and leaves the first's work directory; a SIGKILLed run's is swept by the next start", async () => {
  await withConfig(YAML, async (config, dir) => {
    const logs = join(dir, "logs");
    const first = await startSluice(config);
    let firstStopped = false;
    try {
      await postRecords(first.url, 20);
      await until(
        async () => await (await fetch(`${first.url}/metrics`)).text(),
        (text) => metricValue(text, "sluice_records_out_total", { component: "out" }) >= 1000,
      );
      // Rotated and idle, with the next live file made ahead in its work directory.
      const live = await until(
        () => workDirs(logs),
        (dirs) => Object.values(dirs).some((names) => names.some((n) => n.startsWith("next-"))),
      );
      assert.equal(Object.keys(live).length, 1, JSON.stringify(live));
      const [workName, held] = Object.entries(live)[0]!;
      const spares = held.filter((n) => n.startsWith("next-"));

      // Run to its end (killed after 20 s if it starts, as today's code does).
      const second = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          `--config=${DENO_JSON}`,
          "-A",
          CLI_MAIN,
          "run",
          "--config",
          config,
        ],
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(20_000),
      }).output();
      const refusal = new TextDecoder().decode(second.stderr);
      // Checked first: today's failure is the first run's spare files swept by the second.
      const after = workDirs(logs);
      for (const spare of spares) {
        assert.ok(after[workName]?.includes(spare), `${spare} survived: ${JSON.stringify(after)}`);
      }
      assert.equal(second.signal, null, `a second run started on the same file:\n${refusal}`);
      console.log(`the second run exited with ${second.code}: ${refusal.trim()}`);
      assert.equal(second.code, 1, refusal);
      assert.match(
        refusal,
        new RegExp(
          `Cannot open sink "out": "logs/app\\.log" is being rotated by another running Sluice ` +
            `\\(pid ${first.pid}\\); two processes rotating one file corrupt each other's numbering`,
        ),
      );
      assert.equal(Object.keys(after).length, 1, "the refused run left no work directory");

      // The first run keeps rotating, without a failure.
      await postRecords(first.url, 40);
      const metrics = await until(
        async () => await (await fetch(`${first.url}/metrics`)).text(),
        (text) => metricValue(text, "sluice_records_out_total", { component: "out" }) >= 3000,
      );
      assert.ok(metricValue(metrics, "sluice_rotations_total") >= 5);
      assert.equal(metricValue(metrics, "sluice_file_errors_total"), 0, metrics);

      const killed = await first.stop("SIGKILL");
      firstStopped = true;
      assert.notEqual(killed.code, 0);
      assert.ok(workName in workDirs(logs), "a killed run leaves its work directory");
    } finally {
      if (!firstStopped) await first.stop("SIGKILL");
    }

    // The kernel released the killed run's lock: the next start is not refused and sweeps it.
    const next = await startSluice(config);
    try {
      const dirs = workDirs(logs);
      assert.equal(Object.keys(dirs).length, 1, JSON.stringify(dirs));
      assert.ok(Object.values(dirs)[0]!.includes("lock"), "only the new run's, locked");
    } finally {
      const result = await next.stop();
      assert.equal(result.code, 0, result.stderr);
    }
    assert.deepEqual(workDirs(logs), {}, "a clean stop removes its work directory");
  });
});

import assert from "node:assert/strict";
import { startSluice } from "../helpers/sluice_process.ts";

const LOOPS = 4;
const BATCH = 100;
/** Records acknowledged before SIGTERM is sent. */
const BEFORE_SIGNAL = 20_000;

Deno.test("SIGTERM to sluice run while 4 clients POST concurrently: every record acknowledged with a 2xx is in the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_sigterm_" });
  try {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        "server: { listen: 127.0.0.1:0 }",
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        "  file: { type: file, path: logs/app.log, format: json }",
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config, { extraArgs: ["--drain-timeout", "60s"] });
    const acked = new Set<string>();
    const failures: string[] = [];
    let signalled = false;
    let reachedTarget!: () => void;
    const target = new Promise<void>((resolve) => reachedTarget = resolve);

    const loop = async (client: number) => {
      for (let seq = 0;; seq++) {
        const ids = Array.from({ length: BATCH }, (_, i) => `${client}-${seq}-${i}`);
        const body = ids.map((id) => JSON.stringify({ message: "streamed", id })).join("\n");
        let status: number;
        try {
          const res = await fetch(`${sluice.url}/ingest`, {
            method: "POST",
            body,
            headers: { "content-type": "application/x-ndjson" },
          });
          status = res.status;
          await res.body?.cancel();
        } catch (error) {
          if (!signalled) failures.push(`client ${client}: ${(error as Error).message}`);
          return; // the server went away after SIGTERM
        }
        if (status >= 200 && status < 300) {
          for (const id of ids) acked.add(id);
          if (acked.size >= BEFORE_SIGNAL) reachedTarget();
        } else if (!signalled) {
          failures.push(`client ${client}: status ${status} before SIGTERM`);
          return;
        } else {
          return; // 503 while shutting down: not acknowledged, and that is fine
        }
      }
    };
    const clients = Array.from({ length: LOOPS }, (_, i) => loop(i));
    await Promise.race([target, Promise.all(clients)]);
    assert.deepEqual(failures, []);
    signalled = true;
    const result = await sluice.stop("SIGTERM");
    await Promise.all(clients);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(failures, []);

    const text = await Deno.readTextFile(`${dir}/logs/app.log`);
    const written = new Set<string>();
    let lines = 0;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      lines++;
      written.add(JSON.parse(line).id);
    }
    const missing = [...acked].filter((id) => !written.has(id));
    assert.deepEqual(
      missing.slice(0, 10),
      [],
      `${missing.length} acknowledged records are missing`,
    );
    assert.equal(lines, written.size, "no record is written twice");
    assert.ok(acked.size >= BEFORE_SIGNAL);
    console.log(
      `acknowledged ${acked.size} records (${acked.size / BATCH} requests), ` +
        `${written.size} in the file after SIGTERM`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

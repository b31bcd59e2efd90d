// Issue #19: `sluice run` exited 0 after "shut down with N undelivered records" when the disk was
// still full at SIGTERM. /dev/full is a real file that refuses every write with ENOSPC.
import assert from "node:assert/strict";
import { startSluice } from "../helpers/sluice_process.ts";

Deno.test("sluice run exits 3 when records were dropped: the disk still full at SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        "server: { listen: 127.0.0.1:0 }",
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        "  full: { type: file, path: /dev/full }",
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config, { extraArgs: ["--drain-timeout", "300ms"] });
    const body = [1, 2, 3, 4, 5].map((i) => JSON.stringify({ message: "m", i })).join("\n");
    const res = await fetch(`${sluice.url}/ingest`, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-ndjson" },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    const result = await sluice.stop("SIGTERM");
    assert.match(result.stderr, /No space left on device|ENOSPC|os error 28/i);
    assert.match(result.stderr, /Exiting with code 3: 5 records were dropped/);
    assert.equal(result.code, 3, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

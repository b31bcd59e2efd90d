import assert from "node:assert/strict";
import { startSluice } from "../helpers/sluice_process.ts";
import { freePort } from "../helpers/net_pipeline.ts";

/** Starts `sluice run` on `sinks`, posts 5 records to its http source, and stops it with SIGTERM. */
async function runAndStop(dir: string, sinks: string[]): Promise<{ code: number; stderr: string }> {
  const config = `${dir}/sluice.yaml`;
  await Deno.writeTextFile(
    config,
    [
      "server: { listen: 127.0.0.1:0 }",
      `data_dir: ${dir}/data`,
      "sources:",
      "  ingest: { type: http }",
      "sinks:",
      ...sinks.map((s) => `  ${s}`),
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
  return await sluice.stop("SIGTERM");
}

Deno.test("sluice run exits 0 when the drain delivers everything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runAndStop(dir, [`file: { type: file, path: ${dir}/out.log }`]);
    assert.equal(result.code, 0, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice run exits 3 when records were dropped: a tcp peer down at SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runAndStop(dir, [
      `peer: { type: tcp, address: 127.0.0.1:${freePort()} }`,
    ]);
    assert.match(result.stderr, /Sink "peer" shut down with 5 undelivered records/);
    assert.match(result.stderr, /Records dropped so far: sink "peer" 5 shutdown_timeout/);
    assert.match(result.stderr, /Exiting with code 3: 5 records were dropped/);
    assert.equal(result.code, 3, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice run exits 4 when nothing was dropped but records wait in a disk buffer for the next start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runAndStop(dir, [
      `peer: { type: tcp, address: 127.0.0.1:${freePort()}, buffer: { type: disk } }`,
    ]);
    assert.match(result.stderr, /keeps 5 undelivered records in its disk buffer/);
    assert.match(result.stderr, /Exiting with code 4: 5 records wait undelivered in disk buffers/);
    assert.equal(result.code, 4, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The disk still full at SIGTERM: /dev/full is a real file that refuses every write (ENOSPC).
Deno.test("sluice run exits 3 when records were dropped: the disk still full at SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runAndStop(dir, ["full: { type: file, path: /dev/full }"]);
    assert.match(result.stderr, /No space left on device|ENOSPC|os error 28/i);
    assert.match(result.stderr, /Exiting with code 3: 5 records were dropped/);
    assert.equal(result.code, 3, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

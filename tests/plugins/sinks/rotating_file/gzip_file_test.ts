import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { gzipFile } from "../../../../plugins/sinks/rotating_file/gzip_file.ts";

Deno.test("gzipFile compresses a multi-chunk file that gunzip reads back exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    await Deno.writeFile(`${dir}/a.log`, data);
    const read = await gzipFile(await Deno.open(`${dir}/a.log`), `${dir}/a.log.gz`);
    assert.equal(read, data.length);
    assert.deepEqual(gunzipSync(await Deno.readFile(`${dir}/a.log.gz`)), Buffer.from(data));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gzipFile rejects when aborted or when the target exists, and closes both files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.log`, new Uint8Array(4 * 1024 * 1024));
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    await assert.rejects(
      gzipFile(await Deno.open(`${dir}/a.log`), `${dir}/a.log.gz`, controller.signal),
      /shutting down/,
    );
    await assert.rejects(
      gzipFile(await Deno.open(`${dir}/a.log`), `${dir}/a.log.gz`),
      Deno.errors.AlreadyExists,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Compresses a file with the runtime's `CompressionStream("gzip")`, in chunks, so that the
 * event loop keeps serving writes while it runs.
 *
 * @module
 */

const CHUNK = 256 * 1024;

/**
 * Reads `source` to its end and writes its gzip compression to a new file at `target`
 * (which must not exist), then fsyncs it. Both files are closed when the promise settles;
 * on failure or abort `target` is left for the caller to delete. Resolves to the number of
 * bytes read.
 *
 * @example Compress a file and read it back
 * ```ts
 * import { gzipFile } from "./gzip_file.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/a.log`, "hello\n".repeat(1000));
 * await gzipFile(Deno.openSync(`${dir}/a.log`), `${dir}/a.log.gz`);
 * const text = await new Response(
 *   (await Deno.open(`${dir}/a.log.gz`)).readable.pipeThrough(new DecompressionStream("gzip")),
 * ).text();
 * assert.ok(text === "hello\n".repeat(1000));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function gzipFile(
  source: Deno.FsFile,
  target: string,
  signal?: AbortSignal,
): Promise<number> {
  let out: Deno.FsFile | undefined;
  const stream = new CompressionStream("gzip");
  const writer = stream.writable.getWriter();
  let pump: Promise<void> | undefined;
  let total = 0;
  try {
    out = Deno.openSync(target, { write: true, createNew: true });
    const file = out;
    pump = (async () => {
      const reader = stream.readable.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          let offset = 0;
          while (offset < value.length) offset += await file.write(value.subarray(offset));
        }
      } catch (error) {
        // Errors the writable side too, so a pending writer.write() rejects instead of hanging.
        await reader.cancel(error).catch(() => {});
        throw error;
      }
    })();
    pump.catch(() => {}); // handled below; keeps an early failure from being "unhandled"
    const buffer = new Uint8Array(CHUNK);
    for (;;) {
      signal?.throwIfAborted();
      const n = await source.read(buffer);
      if (n === null) break;
      total += n;
      await writer.write(buffer.slice(0, n));
    }
    await writer.close();
    await pump;
    await file.sync();
    return total;
  } catch (error) {
    await writer.abort(error).catch(() => {});
    await pump?.catch(() => {});
    throw error;
  } finally {
    source.close();
    out?.close();
  }
}

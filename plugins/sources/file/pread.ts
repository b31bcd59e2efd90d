/**
 * Reading bytes at an offset of an open file.
 *
 * @module
 */

/**
 * Reads up to `length` bytes at `offset` into a new array; shorter at the end of the file.
 *
 * @example Read the middle of a file
 * ```ts
 * import { pread } from "./pread.ts";
 * import assert from "node:assert/strict";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "abcdef");
 * const file = Deno.openSync(path, { read: true });
 * assert.equal(new TextDecoder().decode(pread(file, 2, 3)), "cde");
 * assert.equal(pread(file, 4, 10).length, 2);
 * file.close();
 * Deno.removeSync(path);
 * ```
 */
export function pread(file: Deno.FsFile, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  file.seekSync(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = file.readSync(out.subarray(got));
    if (n === null || n === 0) break;
    got += n;
  }
  return got === length ? out : out.subarray(0, got);
}

/**
 * The TCP sender of `bench/pipeline.ts`: loads the input file into memory, connects to
 * `--port`, writes everything in 1 MiB chunks over one connection and closes it. Prints JSON
 * events with epoch-ms times: `{"event":"start","t":…}` just before the first write and
 * `{"event":"end","t":…,"bytes":…}` after the last.
 *
 * @module
 */

const args = Deno.args;
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  if (i === -1 || args[i + 1] === undefined) throw new Error(`Missing argument --${name}`);
  return args[i + 1]!;
};
const port = Number(arg("port"));
const input = await Deno.readFile(arg("input"));
const CHUNK = 1024 * 1024;
const now = () => performance.timeOrigin + performance.now();

const conn = await Deno.connect({ hostname: "127.0.0.1", port });
console.log(JSON.stringify({ event: "start", t: now() }));
for (let offset = 0; offset < input.length;) {
  offset += await conn.write(input.subarray(offset, Math.min(input.length, offset + CHUNK)));
}
await conn.closeWrite();
console.log(JSON.stringify({ event: "end", t: now(), bytes: input.length }));
// Closing after closeWrite() is graceful: the kernel still delivers what is buffered.
conn.close();

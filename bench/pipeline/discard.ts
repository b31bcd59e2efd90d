/**
 * The receiver that measures a sender alone in `bench/pipeline.ts`: `--mode tcp` accepts
 * connections and discards what it reads, printing `{"event":"received","t":…,"bytes":…}` at
 * each connection's EOF; `--mode http` answers every POST with 202 after reading its body.
 * Prints `{"event":"listening"}` once bound to `--port`.
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
const mode = arg("mode");
const now = () => performance.timeOrigin + performance.now();

if (mode === "tcp") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.log(JSON.stringify({ event: "listening" }));
  for await (const conn of listener) {
    (async () => {
      const buffer = new Uint8Array(1024 * 1024);
      let bytes = 0;
      for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) bytes += n;
      if (bytes > 0) console.log(JSON.stringify({ event: "received", t: now(), bytes }));
      conn.close();
    })();
  }
} else if (mode === "http") {
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
    await request.arrayBuffer();
    return new Response(null, { status: 202 });
  });
  console.log(JSON.stringify({ event: "listening" }));
} else {
  throw new Error(`Unknown mode "${mode}"`);
}

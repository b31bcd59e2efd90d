import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startSluice } from "../helpers/sluice_process.ts";

const MOD = fileURLToPath(new URL("../../mod.ts", import.meta.url));

Deno.test("sluice run: an error a plugin throws from a callback is said on stderr and the run goes on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // As the NATS client's socket did: an error raised outside any promise the plugin awaits.
    await Deno.writeTextFile(
      `${dir}/throws_later.ts`,
      `import { definePlugin, s } from "${MOD}";
export default definePlugin({
  kind: "sink",
  type: "throws_later",
  description: "Throws from a timer once created (for tests).",
  options: s.object({}),
  create() {
    setTimeout(() => { throw new Error("thrown from a timer callback"); }, 10);
    return { write() {}, [Symbol.asyncDispose]: () => Promise.resolve() };
  },
});
`,
    );
    await Deno.writeTextFile(
      `${dir}/sluice.yaml`,
      `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http, path: /ingest }
sinks:
  odd: { module: ./throws_later.ts }
`,
    );
    const sluice = await startSluice(`${dir}/sluice.yaml`);
    const deadline = Date.now() + 10_000;
    while (!sluice.stderr().includes("uncaught error") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ready = await fetch(`${sluice.url}/ready`).catch((error) => error);
    const { code, stderr } = await sluice.stop();
    assert.match(stderr, /sluice: uncaught error: .*thrown from a timer callback/);
    assert.ok(ready instanceof Response, `the server stopped answering:\n${stderr}`);
    await ready.body?.cancel();
    assert.equal(ready.status, 200);
    assert.equal(code, 0, stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

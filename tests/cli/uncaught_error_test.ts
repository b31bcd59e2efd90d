/**
 * An error nothing caught, through a real `sluice run`: a plugin throwing from a timer
 * callback three times and leaving a rejection unhandled. The run goes on (the server keeps
 * answering), each error is counted in /metrics by kind, each distinct one is said on stderr
 * once with its stack, and the run exits 5 instead of 0.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { withSluice } from "../helpers/sluice_process.ts";
import { metricValue } from "../helpers/metric_value.ts";

const MOD = fileURLToPath(new URL("../../mod.ts", import.meta.url));

Deno.test("sluice run: errors a plugin leaves uncaught are counted, said once with their stack, and make the exit code 5", async () => {
  const yaml = `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http, path: /ingest }
sinks:
  odd: { module: ./throws_later.ts }
`;
  let metrics = "";
  let ready: Response | Error | undefined;
  const { stderr } = await withSluice(yaml, async (sluice) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      metrics = await (await fetch(`${sluice.url}/metrics`)).text();
      const total = metricValue(metrics, "sluice_uncaught_errors_total");
      if (total >= 4 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    ready = await fetch(`${sluice.url}/ready`).catch((error) => error);
    if (ready instanceof Response) await ready.body?.cancel();
  }, {
    code: 5,
    async prepare(dir) {
      // As the NATS client's socket did: errors raised outside any promise the plugin awaits.
      await Deno.writeTextFile(
        `${dir}/throws_later.ts`,
        `import { definePlugin, s } from "${MOD}";
function throwFromTimer() {
  throw new Error("thrown from a timer callback");
}
export default definePlugin({
  kind: "sink",
  type: "throws_later",
  description: "Throws from timers and leaves a rejection unhandled once created (for tests).",
  options: s.object({}),
  create() {
    for (const ms of [10, 20, 30]) setTimeout(throwFromTimer, ms);
    setTimeout(() => void Promise.reject(new Error("nobody awaited this promise")), 40);
    return { write() {}, [Symbol.asyncDispose]: () => Promise.resolve() };
  },
});
`,
      );
    },
  });
  assert.ok(ready instanceof Response, `the server stopped answering:\n${stderr}`);
  assert.equal(ready.status, 200);
  assert.equal(
    metricValue(metrics, "sluice_uncaught_errors_total", { kind: "callback" }),
    3,
    metrics,
  );
  assert.equal(metricValue(metrics, "sluice_uncaught_errors_total", { kind: "rejection" }), 1);
  // Each distinct error once, with the stack that points at the plugin's line.
  assert.equal(stderr.match(/thrown from a timer callback/g)?.length, 1, stderr);
  assert.match(
    stderr,
    /thrown from a timer callback\n\s+at .*throwFromTimer.*throws_later\.ts:3:9\)/,
  );
  assert.equal(stderr.match(/nobody awaited this promise/g)?.length, 1, stderr);
  assert.match(stderr, /Exiting with code 5: 4 errors nothing caught/);
});

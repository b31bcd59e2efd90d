/**
 * `rotating_file` against `file` on the same records (`deno task bench`): the cost of size
 * checks, rotation between records, retention and background gzip (the workloads are in
 * cost_cases.ts; `deno task bench:costs` interleaves them for RESULTS.md). The goal is under
 * 10% over `file`. On a shared machine compare the `min` column: the average swings with
 * other load.
 *
 * @module
 */

import { ROTATION_RECORDS, rotationCases } from "./cost_cases.ts";

const dir = Deno.makeTempDirSync({ prefix: "sluice_rotating_bench_" });
const { cases, close } = rotationCases(dir);

for (const c of cases) {
  Deno.bench({
    name: c.name,
    group: `${ROTATION_RECORDS.toLocaleString("en-US")} records`,
    baseline: c.baseline,
    n: 30,
  }, c.run);
}

// Close the files and remove the directory when the bench process ends (pending background
// compressions are abandoned; a restart would pick them up).
globalThis.addEventListener("unload", () => {
  void close();
  Deno.removeSync(dir, { recursive: true });
});

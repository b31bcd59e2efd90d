import assert from "node:assert/strict";
import {
  aggregate,
  printAnalysis,
  writeServiceLogs,
} from "../../examples/14_aggregator_results/main.ts";

Deno.test("slide 14 example: three services' files tailed at once give exact per-service counts, traces and errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeServiceLogs(dir, 5000);
    const analysis = await aggregate(dir, 15_000);
    assert.equal(analysis.records_total, 15_000);
    assert.equal(analysis.total_services, 3);
    // Per 5000: every 1000th an ERROR (5), every 40th otherwise a WARN (120), the rest INFO.
    for (const service of ["service1", "service2", "service3"]) {
      assert.deepEqual(analysis.service_distribution[service], {
        INFO: 4875,
        WARN: 120,
        ERROR: 5,
      });
    }
    assert.equal(analysis.active_traces, 1500, "ten records per trace, distinct per service");
    assert.equal(analysis.active_traces_exact, true);
    assert.equal(analysis.recent_errors.length, 15);
    assert.deepEqual(
      analysis.top_errors.map((e) => e.message).sort(),
      ["Authentication failed", "Database connection timeout"],
    );
    const printed = printAnalysis(analysis);
    assert.match(
      printed,
      /^Analysis Results:\n\{\n {2}"total_services": 3,\n {2}"active_traces": 1500,/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

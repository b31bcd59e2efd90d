/**
 * The NDJSON input line that `bench/pipeline.ts` sends to every receiver and that
 * `bench/cost_model.ts` feeds through each stage: one generator, so both measure the same bytes.
 *
 * @module
 */

import { MESSAGE } from "../peers/common.ts";

/** The millisecond of line 0. */
export const INPUT_EPOCH: number = Date.UTC(2026, 0, 1);

/** Line `i`: ten lines share each millisecond, as a busy service's burst would. */
export function inputLine(i: number): string {
  return JSON.stringify({
    time: new Date(INPUT_EPOCH + Math.floor(i / 10)).toISOString(),
    level: "info",
    logger: "bench",
    message: MESSAGE,
    id: i,
    user: "ada",
    path: "/api/orders",
    status: 200,
  }) + "\n";
}

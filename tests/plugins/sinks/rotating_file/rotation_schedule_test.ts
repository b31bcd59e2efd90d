import assert from "node:assert/strict";
import {
  parseAtTime,
  parseWhen,
  RotationSchedule,
} from "../../../../plugins/sinks/rotating_file/rotation_schedule.ts";

const utc = (...a: [number, number, number, number?, number?, number?]) => Date.UTC(...a) / 1000;

Deno.test("parseWhen and parseAtTime accept Python's spellings and reject the rest", () => {
  assert.deepEqual(["s", "M", "h", "D", "Midnight", "w0", "W6"].map(parseWhen), [
    "S",
    "M",
    "H",
    "D",
    "MIDNIGHT",
    "W0",
    "W6",
  ]);
  assert.deepEqual(["W7", "hourly", "", 5].map(parseWhen), [
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  assert.equal(parseAtTime("23:59:59"), 86_399);
  assert.equal(parseAtTime("7:05"), 25_500);
  assert.deepEqual(["24:00", "12:60", "noon", 1200].map(parseAtTime), [
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  assert.throws(() => new RotationSchedule({ when: "X" }), /Invalid rollover interval "X"/);
  assert.throws(() => new RotationSchedule({ when: "H", interval: 0 }), /interval count 0/);
  assert.throws(() => new RotationSchedule({ when: "W0", atTime: "25:00" }), /at_time "25:00"/);
});

Deno.test("RotationSchedule: H drifts from the start like Python, midnight and W aligned, suffixes per when", () => {
  const hourly = new RotationSchedule({ when: "H", utc: true });
  const start = utc(2026, 10, 24, 10, 17, 5);
  assert.equal(hourly.computeRollover(start), start + 3600);
  assert.equal(hourly.suffix(start + 3600, start + 3700), "2026-11-24_10");
  assert.equal(hourly.next(start + 5000), start + 5000 + 3600);

  const weekly = new RotationSchedule({ when: "W6", utc: true, atTime: "01:00" });
  // Tuesday 2026-11-24 → Sunday 2026-11-29 01:00.
  assert.equal(weekly.computeRollover(start), utc(2026, 10, 29, 1));
  assert.equal(weekly.suffix(utc(2026, 10, 29, 1), utc(2026, 10, 29, 1)), "2026-11-22");

  const seconds = new RotationSchedule({ when: "S", interval: 10, utc: true });
  assert.equal(seconds.suffix(start + 10, start + 10), "2026-11-24_10-17-05");
  assert.equal(
    new RotationSchedule({ when: "M", utc: true }).suffix(start + 60, start + 60),
    "2026-11-24_10-17",
  );
});

Deno.test("RotationSchedule local midnight in a zone with DST is 23 or 25 hours long on change days", () => {
  const schedule = new RotationSchedule({ when: "midnight", timeZone: "America/New_York" });
  // 2026-03-08: clocks go forward at 02:00 EST.
  const before = utc(2026, 2, 7, 17); // noon EST, March 7
  const first = schedule.computeRollover(before);
  assert.equal(first, utc(2026, 2, 8, 5)); // midnight EST
  const second = schedule.next(first);
  assert.equal(second - first, 23 * 3600); // midnight EDT
  assert.equal(schedule.suffix(second, second), "2026-03-08");
});

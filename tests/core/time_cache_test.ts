import assert from "node:assert/strict";
import fc from "fast-check";
import { isoTimeCache } from "../../src/core/time_cache.ts";

Deno.test("isoTimeCache matches Date#toISOString for any time, in any order", () => {
  const iso = isoTimeCache();
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.integer({ min: -8.64e15 - 1000, max: 8.64e15 + 1000 }),
          fc.integer({ min: 1_767_225_599_990, max: 1_767_225_600_010 }),
          fc.double({ min: -1e13, max: 1e13, noNaN: true }),
        ),
        { minLength: 1, maxLength: 50 },
      ),
      (times) => {
        for (const t of times) {
          let expected: string;
          try {
            expected = new Date(t).toISOString();
          } catch {
            assert.throws(() => iso(t), RangeError);
            continue;
          }
          assert.equal(iso(t), expected);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("isoTimeCache pads milliseconds and throws for an invalid time like toISOString", () => {
  const iso = isoTimeCache();
  assert.equal(iso(Date.UTC(2026, 0, 1) + 7), "2026-01-01T00:00:00.007Z");
  assert.equal(iso(Date.UTC(2026, 0, 1) + 70), "2026-01-01T00:00:00.070Z");
  assert.equal(iso(Date.UTC(2026, 0, 1) + 700), "2026-01-01T00:00:00.700Z");
  assert.equal(iso(-1), "1969-12-31T23:59:59.999Z");
  assert.throws(() => iso(NaN), RangeError);
  assert.throws(() => iso(8.64e15 + 1), RangeError);
  assert.equal(iso(8.64e15), "+275760-09-13T00:00:00.000Z");
});

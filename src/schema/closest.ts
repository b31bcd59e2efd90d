/**
 * Did-you-mean suggestions.
 *
 * @module
 */

/**
 * The candidate closest to `input` by edit distance (an adjacent swap counts as one edit,
 * case is ignored), when it is close enough to be a plausible typo: at most a third of the
 * longer word, and at most 3 edits.
 *
 * @example Suggest a key
 * ```ts
 * import { closest } from "./closest.ts";
 * import assert from "node:assert/strict";
 * assert.ok(closest("max_byte", ["max_bytes", "path"]) === "max_bytes");
 * assert.ok(closest("levle", ["level", "inputs"]) === "level");
 * assert.ok(closest("zzz", ["max_bytes", "path"]) === undefined);
 * ```
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = input.toLowerCase();
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(Math.max(input.length, best.length) / 3)));
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let previous: number[] = [];
  let row: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    [before, previous, row] = [previous, row, before];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      row[j] = d;
    }
  }
  return row[b.length]!;
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentileCont } from '../../domain/lead-report-figures.js';
import { seededRandom } from '../support/random.js';

/** Postgres' percentile_cont as its definition reads: sort, then interpolate between ranks floor and ceil of p × (n − 1). */
function sortedPercentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const low = sorted[Math.floor(position)]!;
  const high = sorted[Math.ceil(position)]!;
  return low + (position - Math.floor(position)) * (high - low);
}

test('percentileCont selects the same doubles as sorting would, for any length, duplicates and order', () => {
  const rand = seededRandom(11);
  for (let round = 0; round < 400; round += 1) {
    const length = round < 10 ? round : 1 + Math.floor(rand() * 3000);
    // Few distinct values in some rounds (ties around the ranks), wide doubles in others.
    const distinct = round % 3 === 0 ? 1 + Math.floor(rand() * 5) : 0;
    const values = Array.from({ length }, () => (distinct > 0 ? Math.floor(rand() * distinct) : rand() * 1e4 - 50));
    for (const p of [0, 0.1, 0.5, 0.9, 1]) {
      // Selection reorders its input; each percentile gets the values in their original order.
      assert.equal(percentileCont(Float64Array.from(values), p), sortedPercentile(values, p), `length ${length}, p ${p}`);
    }
    // Two percentiles in a row on the same (reordered) array, as the report takes p50 then p90.
    const shared = Float64Array.from(values);
    assert.deepEqual([percentileCont(shared, 0.5), percentileCont(shared, 0.9)], [sortedPercentile(values, 0.5), sortedPercentile(values, 0.9)]);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentilesCont, RollupColumns, type RollupLead } from '../../domain/lead-report-figures.js';
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

test('percentilesCont selects the same doubles as sorting would, for any length, duplicates and order', () => {
  const rand = seededRandom(11);
  for (let round = 0; round < 400; round += 1) {
    const length = round < 10 ? round : 1 + Math.floor(rand() * 3000);
    // Few distinct values in some rounds (ties around the ranks), wide doubles in others.
    const distinct = round % 3 === 0 ? 1 + Math.floor(rand() * 5) : 0;
    const values = Array.from({ length }, () => (distinct > 0 ? Math.floor(rand() * distinct) : rand() * 1e4 - 50));
    for (const p of [0, 0.1, 0.5, 0.9, 1]) {
      // Selection reorders its input; each percentile gets the values in their original order.
      assert.deepEqual(percentilesCont(Float64Array.from(values), [p]), [sortedPercentile(values, p)], `length ${length}, p ${p}`);
    }
    // Several in one call on the same array, each rank searched for above the one before: as the report takes
    // p50 then p90; ranks next to each other, the same rank twice, and out of order too.
    for (const ps of [[0.5, 0.9], [0, 0.1, 0.5, 0.9, 1], [0.5, 0.5], [0.5, 0.5 + 1 / Math.max(1, length - 1)], [0.9, 0.5], [1, 0]]) {
      const expected = ps.map((p) => sortedPercentile(values, p));
      assert.deepEqual(percentilesCont(Float64Array.from(values), ps), expected, `length ${length}, ps ${ps.join(', ')}`);
    }
  }
});

/** What `columns` holds in `slot`, as a RollupLead (NaN and -1 back to null). */
function leadIn(columns: RollupColumns, slot: number): RollupLead {
  const orNull = (value: number) => (Number.isNaN(value) ? null : value);
  const flag = (value: number) => (value === -1 ? null : value === 1);
  return {
    leadId: columns.leadId[slot]!,
    simple: true,
    firstAt: columns.firstAt[slot]!,
    lastAt: columns.lastAt[slot]!,
    tier: columns.tier[slot]!,
    source: columns.source[slot]!,
    mqlAt: orNull(columns.mqlAt[slot]!),
    acceptedAt: orNull(columns.acceptedAt[slot]!),
    qualifiedAt: orNull(columns.qualifiedAt[slot]!),
    closedAt: orNull(columns.closedAt[slot]!),
    won: flag(columns.won[slot]!),
    metAt: orNull(columns.metAt[slot]!),
    metMinutes: orNull(columns.metMinutes[slot]!),
    metLate: flag(columns.metLate[slot]!),
    unmetAt: columns.unmetAt[slot] as number[] | null,
    mqlHours: orNull(columns.mqlHours[slot]!),
    salHours: orNull(columns.salHours[slot]!),
    sqlHours: orNull(columns.sqlHours[slot]!),
    cycleDays: orNull(columns.cycleDays[slot]!),
    attempts: columns.attempts[slot]!,
    firstAttemptAt: orNull(columns.firstAttemptAt[slot]!),
    lastAttemptAt: orNull(columns.lastAttemptAt[slot]!),
    attemptAt: columns.attemptAt[slot] as number[] | null,
    nurtureAt: Number.isNaN(columns.firstNurtureAt[slot]!) ? null : [columns.firstNurtureAt[slot]!, ...(columns.laterNurtureAt[slot] ?? [])],
    nurtureReason: Number.isNaN(columns.firstNurtureAt[slot]!) ? null : [columns.firstNurtureReason[slot]!, ...(columns.laterNurtureReason[slot] ?? [])],
  };
}

test('RollupColumns keep every lead written through growing, copy the slots asked for, and reorder in place', () => {
  const rand = seededRandom(5);
  const maybe = (value: number) => (rand() < 0.3 ? null : value);
  const leads: RollupLead[] = Array.from({ length: 2500 }, (_, i) => ({
    leadId: `lead-${i}`,
    simple: true,
    firstAt: i * 1000,
    lastAt: i * 1000 + 500,
    tier: 1 + (i % 3),
    source: rand() < 0.2 ? null : `source-${i % 4}`,
    mqlAt: maybe(i * 1000 + 1),
    acceptedAt: maybe(i * 1000 + 2),
    qualifiedAt: maybe(i * 1000 + 3),
    closedAt: maybe(i * 1000 + 4),
    won: rand() < 0.3 ? null : rand() < 0.5,
    metAt: maybe(i * 1000 + 5),
    metMinutes: maybe(rand() * 100),
    metLate: rand() < 0.3 ? null : rand() < 0.5,
    unmetAt: rand() < 0.5 ? null : [i * 1000 + 6, i * 1000 + 7],
    mqlHours: maybe(rand() * 10),
    salHours: maybe(rand() * 10),
    sqlHours: maybe(rand() * 10),
    cycleDays: maybe(rand() * 90),
    attempts: Math.floor(rand() * 5),
    firstAttemptAt: maybe(i * 1000 + 8),
    lastAttemptAt: maybe(i * 1000 + 9),
    attemptAt: rand() < 0.5 ? null : [i * 1000 + 8, i * 1000 + 9],
    nurtureAt: rand() < 0.5 ? null : [i * 1000 + 10, i * 1000 + 11, i * 1000 + 12].slice(0, 1 + (i % 3)),
    nurtureReason: null,
  })).map((lead) => ({ ...lead, nurtureReason: lead.nurtureAt && ['too-early', null, 'unresponsive'].slice(0, lead.nurtureAt.length) }));
  // From 1,024 slots to 4,096: two widenings, with every lead written before them still in its slot.
  const columns = new RollupColumns();
  leads.forEach((lead, slot) => columns.write(slot, lead));
  assert.equal(columns.capacity, 4096);
  leads.forEach((lead, slot) => assert.deepEqual(leadIn(columns, slot), lead, `slot ${slot}`));
  assert.equal(columns.lastAt[2600], -Infinity, 'a slot never written is reached by no window');
  const picked = [2499, 0, 1500, 1023, 1024];
  const copy = columns.copyOf(picked);
  picked.forEach((slot, index) => assert.deepEqual(leadIn(copy, index), leads[slot], `copy of slot ${slot}`));
  // The copy keeps its leads while the columns it came from change.
  columns.clear(0);
  columns.write(1500, { ...leads[1500]!, mqlAt: 7 });
  assert.deepEqual(leadIn(copy, 1), leads[0]);
  assert.deepEqual(leadIn(copy, 2), leads[1500]);
  // Reordered in place: the chosen slots' leads first, in the order given, as wide as before; the rest free.
  const holder = { columns };
  const kept = [2499, 7, 1024, 3];
  columns.reorder(kept);
  assert.equal(holder.columns, columns);
  assert.equal(columns.capacity, 4096);
  kept.forEach((slot, index) => assert.deepEqual(leadIn(columns, index), leads[slot], `slot ${index} after reordering`));
  assert.equal(columns.lastAt[kept.length], -Infinity, 'a slot past the kept leads is reached by no window');
  columns.write(kept.length, leads[9]!);
  assert.deepEqual(leadIn(columns, kept.length), leads[9]);
});

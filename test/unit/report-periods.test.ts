import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reportPeriods } from '../../domain/business-time.js';

const spans = (periods: Array<{ from: Date; to: Date }>) => periods.map((p) => `${p.from.toISOString()}/${p.to.toISOString()}`);

describe('report periods (UTC weeks and months)', () => {
  test('weeks start on Monday; the first and last are cut at the range', () => {
    assert.deepEqual(spans(reportPeriods(new Date('2026-11-25T10:00:00Z'), new Date('2026-12-08T00:00:00Z'), 'week')), [
      '2026-11-25T10:00:00.000Z/2026-11-30T00:00:00.000Z',
      '2026-11-30T00:00:00.000Z/2026-12-07T00:00:00.000Z',
      '2026-12-07T00:00:00.000Z/2026-12-08T00:00:00.000Z',
    ]);
    // A range starting on a Monday midnight takes the whole week, not an empty piece.
    assert.deepEqual(spans(reportPeriods(new Date('2026-11-30T00:00:00Z'), new Date('2026-12-07T00:00:00Z'), 'week')), ['2026-11-30T00:00:00.000Z/2026-12-07T00:00:00.000Z']);
  });

  test('months start on the 1st, across a year end', () => {
    assert.deepEqual(spans(reportPeriods(new Date('2026-12-15T00:00:00Z'), new Date('2027-02-01T00:00:00Z'), 'month')), [
      '2026-12-15T00:00:00.000Z/2027-01-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z/2027-02-01T00:00:00.000Z',
    ]);
    assert.deepEqual(reportPeriods(new Date('2027-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'), 'month'), []);
  });
});

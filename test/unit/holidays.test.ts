import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { publicHolidayDates } from '../../domain/holidays.js';

describe('publicHolidayDates', () => {
  const poland2026 = publicHolidayDates('PL', undefined, 2026, 2026);

  test('Poland 2026 includes its public holidays', () => {
    for (const date of ['2026-01-01', '2026-01-06', '2026-04-06', '2026-11-11', '2026-12-24', '2026-12-25', '2026-12-26']) {
      assert.ok(poland2026.includes(date), date);
    }
  });

  test('Poland 2026 excludes ordinary days and days that are only observances or school holidays', () => {
    for (const date of ['2026-11-10', '2026-06-15', '2026-12-31', '2026-04-03', '2026-02-14']) {
      assert.ok(!poland2026.includes(date), date);
    }
  });

  test('dates are sorted, unique, and span every requested year', () => {
    const dates = publicHolidayDates('PL', undefined, 2025, 2027);
    assert.deepEqual(dates, [...new Set(dates)].sort());
    assert.deepEqual(new Set(dates.map((date) => date.slice(0, 4))), new Set(['2025', '2026', '2027']));
    assert.ok(dates.every((date) => /^\d{4}-\d{2}-\d{2}$/.test(date)));
  });

  test('a region adds its own holidays to the country’s', () => {
    const germany = publicHolidayDates('DE', undefined, 2026, 2026);
    const bavaria = publicHolidayDates('DE', 'BY', 2026, 2026);
    assert.ok(!germany.includes('2026-01-06'));
    assert.ok(bavaria.includes('2026-01-06'), 'Epiphany is a public holiday in Bavaria');
    assert.ok(bavaria.includes('2026-10-03'), 'German Unity Day applies everywhere');
  });

  test('a multi-day public holiday closes every date it spans', () => {
    const emirates = publicHolidayDates('AE', undefined, 2026, 2026);
    // Eid al-Fitr 2026 starts on 1 Shawwal (20 March) and lasts three days.
    for (const date of ['2026-03-20', '2026-03-21', '2026-03-22']) assert.ok(emirates.includes(date), date);
  });

  test('an unknown country or region is an error rather than a year without holidays', () => {
    assert.throws(() => publicHolidayDates('XX', undefined, 2026, 2026), /country "XX"/);
    assert.throws(() => publicHolidayDates('DE', 'ZZ', 2026, 2026), /region "ZZ"/);
    assert.throws(() => publicHolidayDates('PL', undefined, 2027, 2026), RangeError);
  });
});

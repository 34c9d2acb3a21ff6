import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addBusinessDays,
  addBusinessMinutes,
  addDuration,
  businessMinutesBetween,
  durationToMs,
  isWorkingInstant,
  nextWorkingInstant,
  NoWorkingTimeError,
  validateCalendar,
  type BusinessCalendar,
  type WorkingInterval,
} from '../../domain/business-time.js';
import { publicHolidayDates } from '../../domain/holidays.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

function weekdaysOnly(intervals: WorkingInterval[]): BusinessCalendar['workingHours'] {
  return { mon: intervals, tue: intervals, wed: intervals, thu: intervals, fri: intervals };
}

const nineToFive = [{ start: '09:00', end: '17:00' }];
const allDay = [{ start: '00:00', end: '24:00' }];

const warsaw: BusinessCalendar = {
  id: 'warsaw',
  timeZone: 'Europe/Warsaw',
  workingHours: weekdaysOnly(nineToFive),
  holidays: publicHolidayDates('PL', undefined, 2023, 2032),
};

const warsawSplit: BusinessCalendar = {
  id: 'warsaw-split',
  timeZone: 'Europe/Warsaw',
  workingHours: weekdaysOnly([
    { start: '09:00', end: '13:00' },
    { start: '14:00', end: '18:00' },
  ]),
  holidays: [],
};

const newYork: BusinessCalendar = {
  id: 'new-york',
  timeZone: 'America/New_York',
  workingHours: weekdaysOnly(nineToFive),
  holidays: publicHolidayDates('US', 'NY', 2023, 2032),
};

const roundTheClock: BusinessCalendar = {
  id: '24/7',
  timeZone: 'Europe/Warsaw',
  workingHours: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
  holidays: [],
};

/** Hours that straddle Sydney's DST changes (Sunday 02:00/03:00) and local midnight, with touching intervals. */
const irregularSydney: BusinessCalendar = {
  id: 'irregular-sydney',
  timeZone: 'Australia/Sydney',
  workingHours: {
    sun: [{ start: '01:30', end: '03:30' }],
    wed: [
      { start: '08:00', end: '12:00' },
      { start: '12:00', end: '12:30' },
      { start: '20:00', end: '24:00' },
    ],
    thu: [{ start: '00:00', end: '00:15' }],
  },
  holidays: ['2026-04-05', '2027-01-27'],
};

const calendars = [warsaw, warsawSplit, newYork, roundTheClock, irregularSydney];
/** Calendars whose working days all have the same hours and no DST change inside them. */
const uniformDayCalendars = [
  { calendar: warsaw, minutesPerDay: 480 },
  { calendar: warsawSplit, minutesPerDay: 480 },
  { calendar: newYork, minutesPerDay: 480 },
];

// ---------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------

/** Midnight UTC of the n-th (1-based) or, with n = -1, last given weekday (0 = Sunday) of a month. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month, 1));
    return Date.UTC(year, month, 1 + ((weekday - first.getUTCDay() + 7) % 7) + 7 * (n - 1));
  }
  const last = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month + 1, 0 - ((last.getUTCDay() - weekday + 7) % 7));
}

/** Days of DST changes in Europe, the US and Australia: random instants rarely land near them. */
const dstChangeDays = [2024, 2025, 2026, 2027, 2028, 2029, 2030].flatMap((year) => [
  nthWeekday(year, 2, 0, -1),
  nthWeekday(year, 9, 0, -1),
  nthWeekday(year, 2, 0, 2),
  nthWeekday(year, 10, 0, 1),
  nthWeekday(year, 3, 0, 1),
  nthWeekday(year, 9, 0, 1),
]);

const anyInstantMs = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 11, 31) });
const nearDstChangeMs = fc
  .tuple(fc.constantFrom(...dstChangeDays), fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS }))
  .map(([day, shift]) => day + shift);
/** Interval edges fall on whole quarter hours, so aligned instants hit them exactly. */
const quarterHourMs = fc
  .oneof(anyInstantMs, nearDstChangeMs)
  .map((ms) => Math.floor(ms / (15 * MINUTE_MS)) * 15 * MINUTE_MS);
const instantMs = fc.oneof(anyInstantMs, nearDstChangeMs, quarterHourMs);
const instant = instantMs.map((ms) => new Date(ms));

/** Fractional minutes come in whole milliseconds, the resolution of a Date. */
const positiveMinutes = fc.oneof(
  fc.integer({ min: 1, max: 6000 }),
  fc.constantFrom(15, 60, 240, 480, 960, 2400),
  fc.integer({ min: 1, max: 3000 * MINUTE_MS }).map((ms) => ms / MINUTE_MS),
);

const calendar = fc.constantFrom(...calendars);

// ---------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------

describe('business time properties', () => {
  test('the business minutes between a start and start + m business minutes are m', () => {
    fc.assert(
      fc.property(calendar, instant, positiveMinutes, (cal, start, minutes) => {
        const due = addBusinessMinutes(cal, start, minutes);
        const elapsed = businessMinutesBetween(cal, start, due);
        assert.ok(Math.abs(elapsed - minutes) < 1e-6, `${elapsed} ≠ ${minutes} from ${start.toISOString()} in ${cal.id}`);
        assert.ok(Math.abs(businessMinutesBetween(cal, due, start) + minutes) < 1e-6);
      }),
      { numRuns: 300 },
    );
  });

  test('a deadline is reached during working time: the instant just before it is working', () => {
    fc.assert(
      fc.property(calendar, instant, positiveMinutes, (cal, start, minutes) => {
        const due = addBusinessMinutes(cal, start, minutes);
        assert.ok(due.getTime() > start.getTime());
        assert.ok(isWorkingInstant(cal, new Date(due.getTime() - 1)), `${due.toISOString()} in ${cal.id}`);
      }),
      { numRuns: 300 },
    );
  });

  test('later starts and longer durations never give earlier deadlines', () => {
    fc.assert(
      fc.property(calendar, instantMs, instantMs, positiveMinutes, positiveMinutes, (cal, a, b, m1, m2) => {
        const [early, late] = [new Date(Math.min(a, b)), new Date(Math.max(a, b))];
        const [short, long] = [Math.min(m1, m2), Math.max(m1, m2)];
        assert.ok(addBusinessMinutes(cal, early, short) <= addBusinessMinutes(cal, late, short));
        assert.ok(addBusinessMinutes(cal, early, short) <= addBusinessMinutes(cal, early, long));
      }),
      { numRuns: 200 },
    );
  });

  test('nextWorkingInstant is working, idempotent, and skips no working time', () => {
    fc.assert(
      fc.property(calendar, instant, (cal, at) => {
        const next = nextWorkingInstant(cal, at);
        assert.ok(isWorkingInstant(cal, next));
        assert.equal(nextWorkingInstant(cal, next).getTime(), next.getTime());
        assert.ok(next >= at);
        assert.equal(businessMinutesBetween(cal, at, next), 0);
        assert.equal(isWorkingInstant(cal, at), next.getTime() === at.getTime());
      }),
      { numRuns: 300 },
    );
  });

  test('businessMinutesBetween agrees with counting working minutes one by one', () => {
    fc.assert(
      fc.property(calendar, quarterHourMs, fc.integer({ min: 0, max: 26 * 60 }), (cal, fromMs, windowMinutes) => {
        let working = 0;
        for (let minute = 0; minute < windowMinutes; minute++) {
          if (isWorkingInstant(cal, new Date(fromMs + minute * MINUTE_MS))) working += 1;
        }
        const to = new Date(fromMs + windowMinutes * MINUTE_MS);
        assert.equal(businessMinutesBetween(cal, new Date(fromMs), to), working);
      }),
      { numRuns: 40 },
    );
  });

  test('n business days on uniform working days are n working days of minutes, at a working time', () => {
    fc.assert(
      fc.property(fc.constantFrom(...uniformDayCalendars), instant, fc.integer({ min: 1, max: 30 }), (uniform, start, days) => {
        const { calendar: cal, minutesPerDay } = uniform;
        const due = addBusinessDays(cal, start, days);
        assert.equal(businessMinutesBetween(cal, nextWorkingInstant(cal, start), due), days * minutesPerDay);
        assert.ok(isWorkingInstant(cal, due));
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Hand-checked cases
// ---------------------------------------------------------------------------------------------------

function assertInstant(actual: Date, expectedIso: string): void {
  assert.equal(actual.toISOString(), new Date(expectedIso).toISOString());
}

describe('addBusinessMinutes, Warsaw 9–17 Mon–Fri with Polish holidays', () => {
  test('4 business hours from Friday 17:30 fall on Monday 13:00', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-06-12T17:30:00+02:00'), 240), '2026-06-15T13:00:00+02:00');
  });

  test('4 business hours from Friday 17:30 before Easter Monday fall on Tuesday 13:00', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-04-03T17:30:00+02:00'), 240), '2026-04-07T13:00:00+02:00');
  });

  test('Independence Day (Wednesday 2026-11-11) is skipped: Tuesday 16:00 + 4 h is Thursday 12:00', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-11-10T16:00:00+01:00'), 240), '2026-11-12T12:00:00+01:00');
  });

  test('across the spring-forward weekend: Friday 16:00 CET + 4 h is Monday 12:00 CEST (10:00Z)', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-03-27T16:00:00+01:00'), 240), '2026-03-30T10:00:00Z');
  });

  test('across the fall-back weekend: Friday 16:00 CEST + 4 h is Monday 12:00 CET (11:00Z)', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-10-23T16:00:00+02:00'), 240), '2026-10-26T11:00:00Z');
  });

  test('across the year end: Thursday 2026-12-31 16:00 + 4 h skips New Year and the weekend to Monday 2027-01-04 12:00', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-12-31T16:00:00+01:00'), 240), '2027-01-04T12:00:00+01:00');
  });

  test('a deadline using up the day lands on closing time, not on the next opening', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-06-15T09:00:00+02:00'), 480), '2026-06-15T17:00:00+02:00');
  });

  test('a start outside working hours counts from the next opening', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-06-15T06:00:00+02:00'), 30), '2026-06-15T09:30:00+02:00');
  });

  test('fractional minutes keep second precision', () => {
    assertInstant(addBusinessMinutes(warsaw, new Date('2026-06-15T16:59:00+02:00'), 1.5), '2026-06-16T09:00:30+02:00');
  });

  test('zero minutes is the start itself, even outside working time', () => {
    const saturday = new Date('2026-06-13T10:00:00+02:00');
    assertInstant(addBusinessMinutes(warsaw, saturday, 0), saturday.toISOString());
  });

  test('negative or non-finite minutes are rejected', () => {
    assert.throws(() => addBusinessMinutes(warsaw, new Date('2026-06-15T10:00:00Z'), -1), RangeError);
    assert.throws(() => addBusinessMinutes(warsaw, new Date('2026-06-15T10:00:00Z'), Number.NaN), RangeError);
  });
});

describe('addBusinessMinutes, other calendars', () => {
  test('New York across its spring-forward weekend: Friday 16:00 EST + 4 h is Monday 12:00 EDT', () => {
    assertInstant(addBusinessMinutes(newYork, new Date('2026-03-06T16:00:00-05:00'), 240), '2026-03-09T12:00:00-04:00');
  });

  test('split hours skip the lunch break', () => {
    assertInstant(addBusinessMinutes(warsawSplit, new Date('2026-06-15T12:00:00+02:00'), 120), '2026-06-15T15:00:00+02:00');
    assertInstant(addBusinessMinutes(warsawSplit, new Date('2026-06-15T12:00:00+02:00'), 60), '2026-06-15T13:00:00+02:00');
    assertInstant(addBusinessMinutes(warsawSplit, new Date('2026-06-15T13:30:00+02:00'), 30), '2026-06-15T14:30:00+02:00');
  });

  test('a 24/7 calendar counts elapsed time, including across DST changes', () => {
    assertInstant(addBusinessMinutes(roundTheClock, new Date('2026-03-28T12:00:00+01:00'), 24 * 60), '2026-03-29T13:00:00+02:00');
    assertInstant(addBusinessMinutes(roundTheClock, new Date('2026-10-24T12:00:00+02:00'), 24 * 60), '2026-10-25T11:00:00+01:00');
  });
});

describe('businessMinutesBetween', () => {
  test('over a weekend only the working minutes count', () => {
    const friday = new Date('2026-06-12T16:00:00+02:00');
    const monday = new Date('2026-06-15T10:00:00+02:00');
    assert.equal(businessMinutesBetween(warsaw, friday, monday), 120);
    assert.equal(businessMinutesBetween(warsaw, monday, friday), -120);
  });

  test('split hours leave out the lunch break', () => {
    assert.equal(
      businessMinutesBetween(warsawSplit, new Date('2026-06-15T12:30:00+02:00'), new Date('2026-06-15T14:30:00+02:00')),
      60,
    );
  });

  test('a 24/7 calendar has 23 working hours on the spring-forward day and 25 on the fall-back day', () => {
    const springDay = businessMinutesBetween(roundTheClock, new Date('2026-03-29T00:00:00+01:00'), new Date('2026-03-30T00:00:00+02:00'));
    const fallDay = businessMinutesBetween(roundTheClock, new Date('2026-10-25T00:00:00+02:00'), new Date('2026-10-26T00:00:00+01:00'));
    assert.equal(springDay, 23 * 60);
    assert.equal(fallDay, 25 * 60);
  });

  test('working hours are local wall-clock hours: a skipped hour gives nothing, a repeated hour counts twice', () => {
    const sundayTwoToThree: BusinessCalendar = {
      id: 'sunday-night',
      timeZone: 'Europe/Warsaw',
      workingHours: { sun: [{ start: '02:00', end: '03:00' }] },
      holidays: [],
    };
    const minutesOnSunday = (saturdayEvening: string, mondayMorning: string) =>
      businessMinutesBetween(sundayTwoToThree, new Date(saturdayEvening), new Date(mondayMorning));
    assert.equal(minutesOnSunday('2026-03-28T20:00:00Z', '2026-03-30T06:00:00Z'), 0);
    assert.equal(minutesOnSunday('2026-10-24T20:00:00Z', '2026-10-26T06:00:00Z'), 120);
    assert.equal(minutesOnSunday('2026-06-13T20:00:00Z', '2026-06-15T06:00:00Z'), 60);
  });

  test('is zero when there is no working time in the range, even for a week without working days', () => {
    const closed: BusinessCalendar = { ...warsaw, workingHours: {} };
    assert.equal(businessMinutesBetween(closed, new Date('2026-01-01T00:00:00Z'), new Date('2028-01-01T00:00:00Z')), 0);
  });
});

describe('addBusinessDays', () => {
  test('5 business days from Monday 10:00 skip Independence Day and the weekend: Tuesday next week 10:00', () => {
    assertInstant(addBusinessDays(warsaw, new Date('2026-11-09T10:00:00+01:00'), 5), '2026-11-17T10:00:00+01:00');
  });

  test('a start outside working hours counts from the next opening', () => {
    assertInstant(addBusinessDays(warsaw, new Date('2026-06-12T18:00:00+02:00'), 5), '2026-06-22T09:00:00+02:00');
  });

  test('keeps the local time of day across a DST change', () => {
    assertInstant(addBusinessDays(warsaw, new Date('2026-03-27T10:00:00+01:00'), 1), '2026-03-30T10:00:00+02:00');
  });

  test('a time of day after the target day closes moves back to its closing time', () => {
    const shortFriday: BusinessCalendar = {
      ...warsaw,
      workingHours: { ...weekdaysOnly(nineToFive), fri: [{ start: '09:00', end: '15:00' }] },
    };
    assertInstant(addBusinessDays(shortFriday, new Date('2026-06-11T16:00:00+02:00'), 1), '2026-06-12T15:00:00+02:00');
  });

  test('a time of day in the target day’s break moves back to the end of the interval before it', () => {
    const lunchOnTuesday: BusinessCalendar = {
      ...warsaw,
      workingHours: {
        mon: nineToFive,
        tue: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '17:00' },
        ],
      },
    };
    assertInstant(addBusinessDays(lunchOnTuesday, new Date('2026-06-15T12:30:00+02:00'), 1), '2026-06-16T12:00:00+02:00');
  });

  test('a time of day before the target day opens moves to its opening', () => {
    const lateTuesday: BusinessCalendar = {
      ...warsaw,
      workingHours: { mon: [{ start: '08:00', end: '16:00' }], tue: [{ start: '10:00', end: '18:00' }] },
    };
    assertInstant(addBusinessDays(lateTuesday, new Date('2026-06-15T08:30:00+02:00'), 1), '2026-06-16T10:00:00+02:00');
  });

  test('a time of day skipped by spring-forward becomes the moment of the change; a repeated one its first occurrence', () => {
    assertInstant(addBusinessDays(roundTheClock, new Date('2026-03-28T02:30:00+01:00'), 1), '2026-03-29T03:00:00+02:00');
    assertInstant(addBusinessDays(roundTheClock, new Date('2026-10-24T02:30:00+02:00'), 1), '2026-10-25T02:30:00+02:00');
  });

  test('zero days is the start itself; fractional or negative days are rejected', () => {
    const saturday = new Date('2026-06-13T10:00:00+02:00');
    assertInstant(addBusinessDays(warsaw, saturday, 0), saturday.toISOString());
    assert.throws(() => addBusinessDays(warsaw, saturday, 1.5), RangeError);
    assert.throws(() => addBusinessDays(warsaw, saturday, -1), RangeError);
  });
});

describe('calendars without working time', () => {
  const closed: BusinessCalendar = { ...warsaw, workingHours: {} };
  const start = new Date('2026-06-15T10:00:00Z');

  test('a week without working days throws NoWorkingTimeError instead of searching forever', () => {
    assert.throws(() => nextWorkingInstant(closed, start), NoWorkingTimeError);
    assert.throws(() => addBusinessMinutes(closed, start, 60), NoWorkingTimeError);
    assert.throws(() => addBusinessDays(closed, start, 1), NoWorkingTimeError);
    assert.throws(() => addDuration(closed, start, { amount: 4, unit: 'hours', clock: 'business' }), NoWorkingTimeError);
  });

  test('working days that are all holidays for more than a year throw NoWorkingTimeError', () => {
    const everyMondayOf2026And2027 = Array.from({ length: 104 }, (_, week) =>
      new Date(Date.UTC(2026, 0, 5) + week * 7 * DAY_MS).toISOString().slice(0, 10),
    );
    const mondaysOnly: BusinessCalendar = {
      id: 'mondays',
      timeZone: 'Europe/Warsaw',
      workingHours: { mon: nineToFive },
      holidays: everyMondayOf2026And2027,
    };
    assert.throws(() => nextWorkingInstant(mondaysOnly, new Date('2026-01-01T00:00:00Z')), NoWorkingTimeError);
    assert.throws(() => addBusinessDays(mondaysOnly, new Date('2025-12-29T10:00:00Z'), 1), NoWorkingTimeError);
    assertInstant(nextWorkingInstant(mondaysOnly, new Date('2027-12-31T00:00:00Z')), '2028-01-03T09:00:00+01:00');
  });
});

describe('addDuration and durationToMs', () => {
  const fridayEvening = new Date('2026-06-12T17:30:00+02:00');

  test('wall-clock durations ignore the calendar', () => {
    assertInstant(addDuration(warsaw, fridayEvening, { amount: 4, unit: 'hours', clock: 'wall' }), '2026-06-12T21:30:00+02:00');
    assertInstant(addDuration(warsaw, fridayEvening, { amount: 90, unit: 'seconds', clock: 'wall' }), '2026-06-12T17:31:30+02:00');
  });

  test('a wall-clock day is 24 hours, also across a DST change', () => {
    assertInstant(
      addDuration(warsaw, new Date('2026-03-28T12:00:00+01:00'), { amount: 1, unit: 'days', clock: 'wall' }),
      '2026-03-29T13:00:00+02:00',
    );
  });

  test('business durations follow the calendar', () => {
    assertInstant(addDuration(warsaw, fridayEvening, { amount: 4, unit: 'hours', clock: 'business' }), '2026-06-15T13:00:00+02:00');
    assertInstant(addDuration(warsaw, fridayEvening, { amount: 240, unit: 'minutes', clock: 'business' }), '2026-06-15T13:00:00+02:00');
    assertInstant(addDuration(warsaw, fridayEvening, { amount: 90, unit: 'seconds', clock: 'business' }), '2026-06-15T09:01:30+02:00');
    assertInstant(addDuration(warsaw, fridayEvening, { amount: 5, unit: 'days', clock: 'business' }), '2026-06-22T09:00:00+02:00');
  });

  test('durationToMs gives the elapsed length whatever the clock', () => {
    assert.equal(durationToMs({ amount: 90, unit: 'seconds', clock: 'wall' }), 90_000);
    assert.equal(durationToMs({ amount: 15, unit: 'minutes', clock: 'business' }), 15 * MINUTE_MS);
    assert.equal(durationToMs({ amount: 4, unit: 'hours', clock: 'business' }), 4 * HOUR_MS);
    assert.equal(durationToMs({ amount: 2, unit: 'days', clock: 'wall' }), 2 * DAY_MS);
    assert.throws(() => durationToMs({ amount: -1, unit: 'days', clock: 'wall' }), RangeError);
  });
});

describe('validateCalendar', () => {
  test('accepts the calendars used here', () => {
    for (const cal of calendars) assert.deepEqual(validateCalendar(cal), [], cal.id);
  });

  test('reports each problem', () => {
    const problems = validateCalendar({
      id: 'broken',
      timeZone: 'Mars/Olympus_Mons',
      workingHours: {
        mon: [
          { start: '9:00', end: '17:00' },
          { start: '13:00', end: '12:00' },
        ],
        tue: [
          { start: '10:00', end: '12:00' },
          { start: '11:00', end: '13:00' },
        ],
        wed: [
          { start: '14:00', end: '18:00' },
          { start: '09:00', end: '12:00' },
        ],
        thu: [{ start: '24:00', end: '24:00' }],
        fri: [{ start: '09:00', end: '24:30' }],
      },
      holidays: ['2026-02-30', '11/11/2026'],
    });
    assert.deepEqual(problems, [
      'timeZone: "Mars/Olympus_Mons" is not an IANA time zone',
      'workingHours.mon[0].start: "9:00" is not HH:MM',
      'workingHours.mon[1]: start 13:00 is not before end 12:00',
      'workingHours.tue[1]: starts before the previous interval ends (intervals must be sorted and not overlap)',
      'workingHours.wed[1]: starts before the previous interval ends (intervals must be sorted and not overlap)',
      'workingHours.thu[0]: start 24:00 is not before end 24:00',
      'workingHours.fri[0].end: "24:30" is not HH:MM',
      'holidays[0]: "2026-02-30" is not a YYYY-MM-DD date',
      'holidays[1]: "11/11/2026" is not a YYYY-MM-DD date',
    ]);
  });

  test('reports an unknown weekday key and a week without working time', () => {
    const unknownKey = { ...warsaw, workingHours: { ...warsaw.workingHours, monday: nineToFive } } as BusinessCalendar;
    assert.deepEqual(validateCalendar(unknownKey), [
      'workingHours.monday: not a weekday (expected one of mon, tue, wed, thu, fri, sat, sun)',
    ]);
    assert.deepEqual(validateCalendar({ ...warsaw, workingHours: { sat: [] } }), ['workingHours: no weekday has working time']);
  });

  test('touching intervals are fine', () => {
    assert.deepEqual(validateCalendar(irregularSydney), []);
  });

  test('operations refuse an invalid calendar', () => {
    const badZone: BusinessCalendar = { ...warsaw, timeZone: 'Europe/Atlantis' };
    assert.throws(() => addBusinessMinutes(badZone, new Date('2026-06-15T10:00:00Z'), 60), /Europe\/Atlantis/);
  });
});

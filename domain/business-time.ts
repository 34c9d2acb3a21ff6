/**
 * Business-time arithmetic for SLA deadlines ("4 business hours", "5 business days").
 *
 * Workflow code calls this during replay, so it is pure and deterministic: no clock, no I/O, no imports.
 * Time-zone rules come from Intl, the only source of IANA data available inside the workflow sandbox.
 *
 * Everything derives from one rule: an instant is working time when, read on the wall clock of the
 * calendar's zone, its time of day lies in one of that weekday's intervals and its date is not a holiday.
 * Hence a local hour skipped by a DST change contributes no working time, and an hour repeated by one
 * counts twice when it lies within working hours.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Local wall-clock times 'HH:MM'; start < end, and end may be '24:00'. */
export interface WorkingInterval {
  start: string;
  end: string;
}

export interface BusinessCalendar {
  id: string;
  /** IANA zone, e.g. 'Europe/Warsaw'. */
  timeZone: string;
  /** Intervals per weekday, sorted; a day may be split, e.g. 09:00–13:00 and 14:00–18:00. */
  workingHours: Partial<Record<Weekday, WorkingInterval[]>>;
  /** Closed local dates 'YYYY-MM-DD': resolved public holidays plus company closures. */
  holidays: string[];
}

export interface PolicyDuration {
  amount: number;
  unit: 'seconds' | 'minutes' | 'hours' | 'days';
  clock: 'wall' | 'business';
}

/** The calendar offers no working time to count in, so a business-time deadline can never fall due. */
export class NoWorkingTimeError extends Error {
  override readonly name = 'NoWorkingTimeError';
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A stretch of closed days longer than this means the calendar is unusable, not that work resumes later. */
const SEARCH_HORIZON_DAYS = 366;

/** Monday first: the index of a weekday in this list is what `weekdayIndexOf` returns. */
const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const UNIT_MS: Record<PolicyDuration['unit'], number> = {
  seconds: SECOND_MS,
  minutes: MINUTE_MS,
  hours: HOUR_MS,
  days: DAY_MS,
};

/** A half-open range [start, end) of milliseconds, either instants or wall-clock times. */
interface Span {
  start: number;
  end: number;
}

/**
 * Wall-clock times are handled as "wall ms": the local date and time read as if they were UTC, so local
 * dates are whole multiples of DAY_MS and day arithmetic needs no zone rules.
 */
interface CompiledCalendar {
  id: string;
  timeZone: string;
  /** Indexed like WEEKDAYS; offsets from local midnight in ms. */
  hoursByWeekday: Span[][];
  /** Days since 1970-01-01 of the closed local dates. */
  holidayDays: Set<number>;
}

// ---------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------

export function isWorkingInstant(cal: BusinessCalendar, at: Date): boolean {
  const calendar = compileCalendar(cal);
  const wall = wallClockMs(calendar.timeZone, at.getTime());
  const day = Math.floor(wall / DAY_MS);
  const timeOfDay = wall - day * DAY_MS;
  return workingHoursOn(calendar, day).some((interval) => interval.start <= timeOfDay && timeOfDay < interval.end);
}

/** The first working instant at or after `at`. */
export function nextWorkingInstant(cal: BusinessCalendar, at: Date): Date {
  return new Date(firstWorkingMs(compileCalendar(cal), at.getTime()));
}

/**
 * The earliest instant by which `minutes` of working time have elapsed since `start`. A deadline that
 * uses up the day's last working minute lands on the closing time itself (17:00, not 09:00 next day);
 * zero minutes is `start` itself. Resolution is one millisecond.
 */
export function addBusinessMinutes(cal: BusinessCalendar, start: Date, minutes: number): Date {
  requireNonNegativeFinite(minutes, 'business minutes');
  const calendar = compileCalendar(cal);
  let remaining = Math.round(minutes * MINUTE_MS);
  if (remaining === 0) return new Date(start.getTime());
  for (const span of workingSpans(calendar, start.getTime())) {
    const length = span.end - span.start;
    if (remaining <= length) return new Date(span.start + remaining);
    remaining -= length;
  }
  throw new Error('unreachable: an unbounded working-span search either yields or throws');
}

/**
 * The same local time of day `days` working days later (working day: has working hours, not a holiday),
 * counted from nextWorkingInstant(start); when that time is not working time on the target day it moves
 * to the end of the last interval before it, or to the day's opening when no interval ends before it.
 * Zero days is `start` itself.
 */
export function addBusinessDays(cal: BusinessCalendar, start: Date, days: number): Date {
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`business days must be a whole number ≥ 0, got ${days}`);
  if (days === 0) return new Date(start.getTime());
  const calendar = compileCalendar(cal);
  const beginWall = wallClockMs(calendar.timeZone, firstWorkingMs(calendar, start.getTime()));
  const beginDay = Math.floor(beginWall / DAY_MS);
  const timeOfDay = beginWall - beginDay * DAY_MS;

  let day = beginDay;
  let lastWorkingDay = beginDay;
  let counted = 0;
  while (counted < days) {
    day += 1;
    if (workingHoursOn(calendar, day).length > 0) {
      counted += 1;
      lastWorkingDay = day;
    } else if (day - lastWorkingDay > SEARCH_HORIZON_DAYS) {
      throw noWorkingTimeWithinHorizon(calendar, isoDateOfDayNumber(lastWorkingDay));
    }
  }
  const targetTimeOfDay = snapToWorkingHours(workingHoursOn(calendar, day), timeOfDay);
  return new Date(firstInstantShowingWallTime(calendar.timeZone, day * DAY_MS + targetTimeOfDay));
}

/** Working minutes in [from, to); negative when `to` is before `from`. */
export function businessMinutesBetween(cal: BusinessCalendar, from: Date, to: Date): number {
  if (to.getTime() < from.getTime()) return -businessMinutesBetween(cal, to, from);
  const calendar = compileCalendar(cal);
  const end = to.getTime();
  let total = 0;
  for (const span of workingSpans(calendar, from.getTime(), end)) total += Math.min(span.end, end) - span.start;
  return total / MINUTE_MS;
}

/** Wall clock: plain elapsed time (a day is 24 h). Business clock: working time, days via addBusinessDays. */
export function addDuration(cal: BusinessCalendar, start: Date, d: PolicyDuration): Date {
  if (d.clock === 'wall') return new Date(start.getTime() + durationToMs(d));
  requireNonNegativeFinite(d.amount, `duration in ${d.unit}`);
  if (d.unit === 'days') return addBusinessDays(cal, start, d.amount);
  return addBusinessMinutes(cal, start, (d.amount * UNIT_MS[d.unit]) / MINUTE_MS);
}

/** The duration's length as elapsed time, ignoring its clock: for display and for seconds-scale test policies. */
export function durationToMs(d: PolicyDuration): number {
  requireNonNegativeFinite(d.amount, `duration in ${d.unit}`);
  return Math.round(d.amount * UNIT_MS[d.unit]);
}

/** Human-readable problems with the calendar; empty when it is usable. */
export function validateCalendar(cal: BusinessCalendar): string[] {
  const { calendar, problems } = parseCalendar(cal);
  if (problems.length === 0 && !hasWorkingWeekday(calendar)) problems.push('workingHours: no weekday has working time');
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Calendar compilation and validation
// ---------------------------------------------------------------------------------------------------

const HH_MM = /^(\d{2}):(\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Each calendar object's compiled form, kept while the object is unchanged: parsing years of holiday dates on
 * every call dominated bulk use (the policy simulator replays thousands of leads). A calendar whose fields were
 * replaced or changed in place (another holiday list, other hours, another zone) is compiled afresh; the
 * compiled form is only read.
 */
interface CompiledEntry {
  id: string;
  timeZone: string;
  workingHours: string;
  /** A copy, compared entry by entry: the caller's array may be changed in place. */
  holidays: readonly string[];
  calendar: CompiledCalendar;
}
const compiledCalendars = new WeakMap<BusinessCalendar, CompiledEntry>();

const sameDates = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((date, index) => date === b[index]);

function compileCalendar(cal: BusinessCalendar): CompiledCalendar {
  const workingHours = JSON.stringify(cal.workingHours);
  const cached = compiledCalendars.get(cal);
  if (cached && cached.id === cal.id && cached.timeZone === cal.timeZone && cached.workingHours === workingHours && sameDates(cached.holidays, cal.holidays)) {
    return cached.calendar;
  }
  const { calendar, problems } = parseCalendar(cal);
  if (problems.length > 0) throw new RangeError(`invalid business calendar "${cal.id}": ${problems.join('; ')}`);
  compiledCalendars.set(cal, { id: cal.id, timeZone: cal.timeZone, workingHours, holidays: [...cal.holidays], calendar });
  return calendar;
}

/**
 * One pass that both checks and converts. Reports every problem except a
 * week without working time, which the searching operations report as NoWorkingTimeError instead.
 */
function parseCalendar(cal: BusinessCalendar): { calendar: CompiledCalendar; problems: string[] } {
  const problems: string[] = [];
  if (!isKnownTimeZone(cal.timeZone)) problems.push(`timeZone: "${cal.timeZone}" is not an IANA time zone`);

  const hoursByWeekday: Span[][] = WEEKDAYS.map(() => []);
  for (const [key, intervals] of Object.entries(cal.workingHours)) {
    const weekdayIndex = (WEEKDAYS as readonly string[]).indexOf(key);
    if (weekdayIndex < 0) {
      problems.push(`workingHours.${key}: not a weekday (expected one of ${WEEKDAYS.join(', ')})`);
      continue;
    }
    (intervals ?? []).forEach((interval, index) => {
      const where = `workingHours.${key}[${index}]`;
      const start = wallTimeOfDayMs(interval.start);
      const end = wallTimeOfDayMs(interval.end);
      if (start === undefined) problems.push(`${where}.start: "${interval.start}" is not HH:MM`);
      if (end === undefined) problems.push(`${where}.end: "${interval.end}" is not HH:MM`);
      if (start === undefined || end === undefined) return;
      if (start >= end) problems.push(`${where}: start ${interval.start} is not before end ${interval.end}`);
      const previous = hoursByWeekday[weekdayIndex]!.at(-1);
      if (previous && start < previous.end) {
        problems.push(`${where}: starts before the previous interval ends (intervals must be sorted and not overlap)`);
      }
      hoursByWeekday[weekdayIndex]!.push({ start, end });
    });
  }

  const holidayDays = new Set<number>();
  cal.holidays.forEach((date, index) => {
    const day = dayNumberOfIsoDate(date);
    if (day === undefined) problems.push(`holidays[${index}]: "${date}" is not a YYYY-MM-DD date`);
    else holidayDays.add(day);
  });

  return { calendar: { id: cal.id, timeZone: cal.timeZone, hoursByWeekday, holidayDays }, problems };
}

function isKnownTimeZone(timeZone: string): boolean {
  try {
    wallClockFormat(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** 'HH:MM' (or '24:00') as ms after local midnight; undefined when malformed. */
function wallTimeOfDayMs(hhmm: string): number | undefined {
  const match = HH_MM.exec(hhmm);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  const valid = (hours < 24 && minutes < 60) || (hours === 24 && minutes === 0);
  return valid ? hours * HOUR_MS + minutes * MINUTE_MS : undefined;
}

/** 'YYYY-MM-DD' as days since 1970-01-01; undefined when malformed or not a real date (e.g. 02-30). */
function dayNumberOfIsoDate(date: string): number | undefined {
  const match = ISO_DATE.exec(date);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const isRealDate = month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
  return isRealDate ? Date.UTC(year, month - 1, day) / DAY_MS : undefined;
}

function daysInMonth(year: number, month: number): number {
  const isLeapYear = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month === 2) return isLeapYear ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isoDateOfDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function hasWorkingWeekday(calendar: CompiledCalendar): boolean {
  return calendar.hoursByWeekday.some((intervals) => intervals.length > 0);
}

// ---------------------------------------------------------------------------------------------------
// Working time
// ---------------------------------------------------------------------------------------------------

/** 1970-01-01, day 0, was a Thursday. */
function weekdayIndexOf(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** The working intervals of a local date (days since 1970-01-01): none on holidays. */
function workingHoursOn(calendar: CompiledCalendar, day: number): Span[] {
  if (calendar.holidayDays.has(day)) return [];
  return calendar.hoursByWeekday[weekdayIndexOf(day)]!;
}

/** The working wall-clock spans within [wallFrom, wallTo), in order. */
function workingWallSpans(calendar: CompiledCalendar, wallFrom: number, wallTo: number): Span[] {
  const spans: Span[] = [];
  for (let day = Math.floor(wallFrom / DAY_MS); day * DAY_MS < wallTo; day++) {
    const midnight = day * DAY_MS;
    for (const interval of workingHoursOn(calendar, day)) {
      const start = Math.max(midnight + interval.start, wallFrom);
      const end = Math.min(midnight + interval.end, wallTo);
      if (start < end) spans.push({ start, end });
    }
  }
  return spans;
}

/**
 * The working spans of instants from `fromMs` onwards, in order, the first clipped to start at `fromMs`.
 * Bounded by `untilMs` when given (a span may reach past it); otherwise unbounded, and then a
 * NoWorkingTimeError replaces any wait for working time longer than the search horizon.
 */
function* workingSpans(calendar: CompiledCalendar, fromMs: number, untilMs = Infinity): Generator<Span> {
  if (untilMs === Infinity && !hasWorkingWeekday(calendar)) {
    throw new NoWorkingTimeError(`business calendar "${calendar.id}" has no working hours on any weekday`);
  }
  let lastWorkingMs = fromMs;
  for (const segment of constantOffsetSegments(calendar.timeZone, fromMs)) {
    if (segment.start >= untilMs) return;
    const { offset } = segment;
    for (const wallSpan of workingWallSpans(calendar, segment.start + offset, segment.end + offset)) {
      if (wallSpan.start - offset >= untilMs) return;
      yield { start: wallSpan.start - offset, end: wallSpan.end - offset };
      lastWorkingMs = wallSpan.end - offset;
    }
    if (untilMs === Infinity && segment.end - lastWorkingMs > SEARCH_HORIZON_DAYS * DAY_MS) {
      throw noWorkingTimeWithinHorizon(calendar, new Date(lastWorkingMs).toISOString());
    }
  }
}

function firstWorkingMs(calendar: CompiledCalendar, fromMs: number): number {
  for (const span of workingSpans(calendar, fromMs)) return span.start;
  throw new Error('unreachable: an unbounded working-span search either yields or throws');
}

function noWorkingTimeWithinHorizon(calendar: CompiledCalendar, after: string): NoWorkingTimeError {
  return new NoWorkingTimeError(
    `business calendar "${calendar.id}" has no working time within ${SEARCH_HORIZON_DAYS} days after ${after}`,
  );
}

/**
 * Where a wall time is not working time on its day: the end of the last interval before it, else the
 * day's opening. `intervals` is a working day's, so non-empty and sorted.
 */
function snapToWorkingHours(intervals: Span[], timeOfDay: number): number {
  if (intervals.some((interval) => interval.start <= timeOfDay && timeOfDay < interval.end)) return timeOfDay;
  const endedBefore = intervals.filter((interval) => interval.end <= timeOfDay).at(-1);
  return endedBefore ? endedBefore.end : intervals[0]!.start;
}

// ---------------------------------------------------------------------------------------------------
// Time-zone rules via Intl
// ---------------------------------------------------------------------------------------------------

/** Creating a DateTimeFormat costs milliseconds, reusing one microseconds. */
const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = wallClockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallClockFormats.set(timeZone, format);
  }
  return format;
}

/** What wallClockFormat prints: 'M/D/YYYY, HH:MM:SS' (years before 1000 or BC take the formatToParts path). */
const EN_US_WALL_CLOCK = /^(\d{1,2})\/(\d{1,2})\/(\d{4}), (\d{2}):(\d{2}):(\d{2})$/;

/** The zone's wall-clock reading of an instant, in wall ms. */
function wallClockMs(timeZone: string, instantMs: number): number {
  // Intl reads whole seconds; the milliseconds carry over unchanged since offsets are whole seconds.
  const wholeSecond = Math.floor(instantMs / SECOND_MS) * SECOND_MS;
  const format = wallClockFormat(timeZone);
  // format() and one regular expression read the same fields about twice as fast as formatToParts().
  const match = EN_US_WALL_CLOCK.exec(format.format(wholeSecond));
  if (match) {
    const wall = Date.UTC(Number(match[3]), Number(match[1]) - 1, Number(match[2]), Number(match[4]), Number(match[5]), Number(match[6]));
    return wall + (instantMs - wholeSecond);
  }
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of format.formatToParts(wholeSecond)) fields[part.type] = Number(part.value);
  const wall = Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!);
  return wall + (instantMs - wholeSecond);
}

function utcOffsetMs(timeZone: string, instantMs: number): number {
  return wallClockMs(timeZone, instantMs) - instantMs;
}

/**
 * Consecutive ranges of instants from `fromMs` onwards, each with the zone's one UTC offset in it.
 * Probes a day ahead at a time, assuming a zone never changes its offset twice within 24 hours.
 */
function* constantOffsetSegments(timeZone: string, fromMs: number): Generator<Span & { offset: number }> {
  let start = fromMs;
  let offset = utcOffsetMs(timeZone, start);
  for (;;) {
    const probe = start + DAY_MS;
    const probeOffset = utcOffsetMs(timeZone, probe);
    const end = probeOffset === offset ? probe : firstInstantWithOtherOffset(timeZone, start, probe, offset);
    yield { start, end, offset };
    offset = end === probe ? probeOffset : utcOffsetMs(timeZone, end);
    start = end;
  }
}

/** Bisects (lo, hi] for the offset change, given that `lo` has `offsetAtLo` and `hi` another offset. */
function firstInstantWithOtherOffset(timeZone: string, lo: number, hi: number, offsetAtLo: number): number {
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (utcOffsetMs(timeZone, mid) === offsetAtLo) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The first instant at which the zone's clock shows `wall` or later: the earlier of two readings when a
 * fall-back change repeats it, the moment of the change when a spring-forward change skips it.
 */
function firstInstantShowingWallTime(timeZone: string, wall: number): number {
  const offsetBefore = utcOffsetMs(timeZone, wall - DAY_MS);
  const offsetAfter = utcOffsetMs(timeZone, wall + DAY_MS);
  const readings = [wall - offsetBefore, wall - offsetAfter].filter(
    (instant) => wallClockMs(timeZone, instant) === wall,
  );
  if (readings.length > 0) return Math.min(...readings);
  return firstInstantWithOtherOffset(timeZone, wall - offsetAfter, wall - offsetBefore, offsetBefore);
}

function requireNonNegativeFinite(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be a finite number ≥ 0, got ${value}`);
}

/** How the management dashboard groups a report range over time: calendar weeks (from Monday) or months, in UTC. */
export type ReportPeriodUnit = 'week' | 'month';

/**
 * [from, to) cut at each UTC week (Monday 00:00) or month start; the first and last pieces may be partial.
 * Reports are grouped in UTC, not on a business calendar, so one period means the same for every team.
 */
export function reportPeriods(from: Date, to: Date, unit: ReportPeriodUnit): Array<{ from: Date; to: Date }> {
  const periods: Array<{ from: Date; to: Date }> = [];
  let start = from.getTime();
  const end = to.getTime();
  while (start < end) {
    const at = new Date(start);
    const next =
      unit === 'month'
        ? Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)
        : Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()) + ((8 - (at.getUTCDay() || 7)) % 7 || 7) * DAY_MS;
    const stop = Math.min(next, end);
    periods.push({ from: new Date(start), to: new Date(stop) });
    start = stop;
  }
  return periods;
}

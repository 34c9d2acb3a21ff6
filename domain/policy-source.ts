import { publicHolidayDates } from '../domain/holidays.js';
import { parsePolicy, type Policy } from '../domain/policy.js';

/** Years of holidays a policy snapshot carries: long enough for any lead or deal clock started under it. */
const HOLIDAY_YEARS_BEHIND = 1;
const HOLIDAY_YEARS_AHEAD = 3;

/**
 * Validates a policy document and resolves each calendar's public holidays into dates, so the snapshot a
 * workflow receives is self-contained and replays identically whatever the holiday library later says.
 * The rationale stays in the stored document, where readers of the version find it: no rule reads it, and it
 * is a third of the snapshot that every start and continue-as-new carries and every cached workflow holds.
 */
export function resolvePolicy(document: unknown, today: Date): Policy {
  const policy = { ...parsePolicy(document), rationale: {} };
  const year = today.getUTCFullYear();
  for (const calendar of Object.values(policy.calendars)) {
    const publicHolidays = calendar.publicHolidays
      ? publicHolidayDates(calendar.publicHolidays.country, calendar.publicHolidays.region, year - HOLIDAY_YEARS_BEHIND, year + HOLIDAY_YEARS_AHEAD)
      : [];
    calendar.holidays = [...new Set([...calendar.holidays, ...publicHolidays, ...calendar.closures])].sort();
  }
  return policy;
}

import Holidays, { type HolidaysTypes } from 'date-holidays';

/**
 * Resolves public holidays into plain local dates when a policy is loaded. Workflows never import this:
 * they get the dates snapshotted into their calendar, so replay never depends on this library's data version.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The local dates 'YYYY-MM-DD' of the public holidays of `country` (ISO 3166-1, e.g. 'PL'), optionally
 * narrowed to a `region` (its ISO 3166-2 subdivision code, e.g. 'BY' for Bavaria in 'DE'), for every
 * year from `fromYear` to `toYear` inclusive: sorted, without duplicates.
 */
export function publicHolidayDates(country: string, region: string | undefined, fromYear: number, toYear: number): string[] {
  if (!Number.isInteger(fromYear) || !Number.isInteger(toYear) || fromYear > toYear) {
    throw new RangeError(`expected whole years with fromYear ≤ toYear, got ${fromYear}..${toYear}`);
  }
  const holidays = regionHolidays(country.toUpperCase(), region?.toUpperCase());
  const dates = new Set<string>();
  for (let year = fromYear; year <= toYear; year++) {
    for (const holiday of holidays.getHolidays(year)) {
      for (const date of datesCovered(holiday)) dates.add(date);
    }
  }
  return [...dates].sort();
}

function regionHolidays(country: string, region: string | undefined): Holidays {
  const directory = new Holidays();
  // The library silently falls back to no holidays (unknown country) or the whole country (unknown
  // region), which would quietly turn holidays into working days.
  if (!(country in directory.getCountries())) throw new RangeError(`date-holidays knows no country "${country}"`);
  if (region === undefined) return new Holidays(country, { types: ['public'] });
  if (!(region in (directory.getStates(country) ?? {}))) {
    throw new RangeError(`date-holidays knows no region "${region}" in country "${country}"`);
  }
  return new Holidays(country, region, { types: ['public'] });
}

/**
 * Every local date a holiday touches. Its `date` reads 'YYYY-MM-DD hh:mm:ss' in the country's zone;
 * multi-day holidays (e.g. a three-day Eid) span several dates, and a partial-day one closes its whole
 * date, since calendars close whole days only.
 */
function datesCovered(holiday: HolidaysTypes.Holiday): string[] {
  const [year, month, day] = holiday.date.slice(0, 10).split('-').map(Number) as [number, number, number];
  const firstDay = Date.UTC(year, month - 1, day);
  const dayCount = Math.max(1, Math.round((holiday.end.getTime() - holiday.start.getTime()) / DAY_MS));
  return Array.from({ length: dayCount }, (_, index) => new Date(firstDay + index * DAY_MS).toISOString().slice(0, 10));
}

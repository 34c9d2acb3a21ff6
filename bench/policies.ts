import type { BusinessCalendar, Weekday } from '../domain/business-time.js';
import { addDuration } from '../domain/business-time.js';
import type { Duration, Policy } from '../domain/policy.js';
import { defaultPolicy, secondsScalePolicy } from '../test/support/policies.js';

/** Policy variants the benchmark runs leads under, all derived from the shipped seconds-scale policy. */

const wall = (amount: number, unit: Duration['unit']): Duration => ({ amount, unit, clock: 'wall' });

/**
 * The seconds-scale rules with every clock pushed hours or days out: leads started under it stay open and
 * quiet (no timer fires during the benchmark), so they load the system only when the benchmark acts on them.
 */
export function quietPolicy(version: string): Policy {
  const policy = structuredClone(secondsScalePolicy());
  policy.version = version;
  policy.speedToLead = { ...policy.speedToLead, tier1: wall(6, 'hours'), tier2: wall(6, 'hours'), tier3: wall(6, 'hours'), hot: wall(6, 'hours') };
  policy.cadence = {
    ...policy.cadence,
    attempts: policy.cadence.attempts.map((attempt, index) => ({ ...attempt, dueAfter: wall(index, 'days') })),
    window: wall(14, 'days'),
  };
  policy.escalation = { levels: policy.escalation.levels.map((level) => ({ ...level, after: wall(6, 'hours') })) };
  return policy;
}

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const STORM_CALENDAR = 'bench-storm';
/** The deadline counts this much working time from the calendar's opening. */
export const STORM_ALLOWANCE: Duration = { amount: 1, unit: 'seconds', clock: 'business' };

/**
 * How long before the storm's deadline the due-soon mark falls: the default policy's mark (5 business
 * minutes) at the storm's seconds scale, so every lead arms it and it fires after all are routed, without
 * making the bench wait five minutes.
 */
export const STORM_DUE_SOON: Duration = { amount: 10, unit: 'seconds', clock: 'business' };

/**
 * Timer storm: a UTC business calendar that is closed until `opensAt` (a whole minute) on the day the storm
 * starts, and a Tier 1/2/3 deadline of one business second. Every lead routed before `opensAt` therefore
 * falls due at the same instant, opensAt + 1 s, whenever it was started. The other timers are the default
 * policy's: its escalation levels (only the first, at the deadline, fires during the benchmark; the next waits
 * 15 business minutes), and its due-soon mark, scaled to STORM_DUE_SOON before the deadline, which visibility
 * shows (DueSoonAt) without a timer: each lead sleeps on one timer before it breaches, as under the default policy.
 */
export function stormPolicy(version: string, opensAt: Date, startsOn: Date = new Date()): { policy: Policy; deadline: Date } {
  if (opensAt.getUTCSeconds() !== 0 || opensAt.getUTCMilliseconds() !== 0) throw new Error('the storm calendar opens on a whole minute');
  const policy = quietPolicy(version);
  const openDay = WEEKDAYS[opensAt.getUTCDay()]!;
  const startDay = WEEKDAYS[startsOn.getUTCDay()]!;
  const hhmm = `${String(opensAt.getUTCHours()).padStart(2, '0')}:${String(opensAt.getUTCMinutes()).padStart(2, '0')}`;
  const workingHours: BusinessCalendar['workingHours'] = {};
  for (const day of WEEKDAYS) {
    if (day === openDay) workingHours[day] = [{ start: hhmm, end: '24:00' }];
    else if (day !== startDay) workingHours[day] = [{ start: '00:00', end: '24:00' }];
  }
  policy.calendars = { [STORM_CALENDAR]: { id: STORM_CALENDAR, timeZone: 'UTC', workingHours, closures: [], holidays: [] } };
  policy.defaultCalendarId = STORM_CALENDAR;
  policy.speedToLead = { ...policy.speedToLead, tier1: STORM_ALLOWANCE, tier2: STORM_ALLOWANCE, tier3: STORM_ALLOWANCE, hot: STORM_ALLOWANCE };
  policy.sla = { dueSoonBefore: STORM_DUE_SOON };
  policy.escalation = structuredClone(defaultPolicy(startsOn).escalation);
  // The same arithmetic the workflow does, from a moment before the opening.
  const deadline = addDuration(policy.calendars[STORM_CALENDAR]!, startsOn, STORM_ALLOWANCE);
  return { policy, deadline };
}

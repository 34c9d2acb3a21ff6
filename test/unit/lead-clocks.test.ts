import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BusinessCalendar } from '../../domain/business-time.js';
import { pendingWakeUps, shiftForPause, slaBudget, slaStateNow, startCadence, startSpeedToLead, type ClockView } from '../../domain/lead-clocks.js';
import { alwaysOpenPolicy } from '../support/policies.js';

const warsaw: BusinessCalendar = {
  id: 'warsaw',
  timeZone: 'Europe/Warsaw',
  workingHours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => [day, [{ start: '09:00', end: '17:00' }]])),
  holidays: [],
};
const policy = alwaysOpenPolicy();
const alwaysOpen = policy.calendars[policy.defaultCalendarId]!;

describe('lead clocks', () => {
  test('a pause moves a business deadline by the business time it lasted, a wall deadline by the elapsed time', () => {
    // Paused Friday 16:00 CET until Monday 10:00 CET: one business hour passed while paused.
    const pausedAt = new Date('2027-01-15T15:00:00Z');
    const resumedAt = new Date('2027-01-18T09:00:00Z');
    const business = shiftForPause(warsaw, { at: '2027-01-15T15:30:00.000Z', clock: 'business' }, pausedAt, resumedAt);
    assert.equal(business.at, '2027-01-18T09:30:00.000Z', 'the 30 business minutes left are still left after the pause');
    const wall = shiftForPause(warsaw, { at: '2027-01-15T15:30:00.000Z', clock: 'wall' }, pausedAt, resumedAt);
    assert.equal(wall.at, '2027-01-18T09:30:00.000Z');
    const past = shiftForPause(warsaw, { at: '2027-01-15T14:00:00.000Z', clock: 'business' }, pausedAt, resumedAt);
    assert.equal(past.at, '2027-01-15T14:00:00.000Z', 'an instant already behind when the pause began does not move');
  });

  test('wake-ups come soonest first; a reached due-soon mark and an attempt due at once are left out', () => {
    const start = new Date('2027-01-11T10:00:00Z');
    const view: ClockView = {
      speedToLead: startSpeedToLead(alwaysOpen, start, { amount: 4, unit: 'hours', clock: 'business' }),
      cadence: startCadence(policy, alwaysOpen, start),
      attemptsMade: 0,
      paused: null,
    };
    const wakeUps = pendingWakeUps(view, policy, 'Tier 2', start);
    assert.deepEqual(
      wakeUps.map((wake) => wake.kind),
      ['due-soon', 'speed-to-lead', 'cadence-attempt', 'cadence-attempt', 'cadence-attempt', 'cadence-attempt', 'cadence-window'],
    );
    assert.ok(wakeUps.every((wake, index) => index === 0 || wakeUps[index - 1]!.at <= wake.at));
    assert.equal(wakeUps[2]!.label, 'Attempt 2 of 5 due');

    const afterDueSoon = pendingWakeUps(view, policy, 'Tier 2', new Date('2027-01-11T13:56:00Z'));
    assert.ok(!afterDueSoon.some((wake) => wake.kind === 'due-soon'));

    const legacy = { ...view, cadence: startCadence(policy, alwaysOpen, start, true) };
    assert.equal(pendingWakeUps(legacy, policy, 'Tier 2', start).filter((wake) => wake.kind === 'cadence-attempt').length, 5);
  });

  test('a paused lead waits only for the end of its pause', () => {
    const start = new Date('2027-01-11T10:00:00Z');
    const view: ClockView = {
      speedToLead: startSpeedToLead(alwaysOpen, start, { amount: 15, unit: 'minutes', clock: 'business' }),
      cadence: null,
      attemptsMade: 0,
      paused: { since: start.toISOString(), until: '2027-01-12T10:00:00.000Z', reason: 'rep away' },
    };
    assert.deepEqual(pendingWakeUps(view, policy, 'Tier 1', start), [{ at: '2027-01-12T10:00:00.000Z', label: 'Pause ends', kind: 'pause-ends' }]);
    assert.deepEqual(pendingWakeUps({ ...view, paused: { ...view.paused!, until: null } }, policy, 'Tier 1', start), []);
  });

  test('the SLA budget counts business minutes left in the calendar that applies', () => {
    const clock = startSpeedToLead(warsaw, new Date('2027-01-15T16:30:00Z'), { amount: 4, unit: 'hours', clock: 'business' });
    assert.equal(clock.due.at, '2027-01-18T12:00:00.000Z');
    const mondayTen = slaBudget(clock, warsaw, new Date('2027-01-18T09:00:00Z'));
    assert.deepEqual(mondayTen, { calendarId: 'warsaw', timeZone: 'Europe/Warsaw', dueAt: clock.due.at, remainingMinutes: 180, clock: 'business' });
    assert.equal(slaBudget(clock, warsaw, new Date('2027-01-18T13:00:00Z')).remainingMinutes, -60, 'negative once breached');
    assert.equal(slaBudget(null, warsaw, new Date()).dueAt, null);
  });

  test('slaStateNow: an on-track lead whose due-soon mark has passed since its last task is due soon; other states stand', () => {
    const dueSoonAt = '2026-12-07T09:55:00.000Z';
    assert.equal(slaStateNow({ slaState: 'on-track', dueSoonAt }, new Date('2026-12-07T09:54:59.999Z')), 'on-track');
    assert.equal(slaStateNow({ slaState: 'on-track', dueSoonAt }, new Date(dueSoonAt)), 'due-soon');
    assert.equal(slaStateNow({ slaState: 'breached', dueSoonAt }, new Date('2026-12-07T10:30:00.000Z')), 'breached');
    assert.equal(slaStateNow({ slaState: 'on-track', dueSoonAt: null }, new Date('2030-01-01T00:00:00.000Z')), 'on-track');
    assert.equal(slaStateNow({ slaState: 'on-track' }, new Date('2030-01-01T00:00:00.000Z')), 'on-track', 'runs before lean-clocks carry no dueSoonAt');
  });
});

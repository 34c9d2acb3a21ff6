import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolvePolicy } from '../../domain/policy-source.js';
import {
  advanceEscalation,
  breachMilestone,
  completeMilestone,
  describeDuration,
  dossierMilestone,
  handoffStateOf,
  kickoffMilestone,
  pendingDealWakeUps,
  qbrMilestone,
} from '../../domain/deal-clocks.js';
import { dealStageOf, dealStepRefusal } from '../../domain/deal-lifecycle.js';
import { parsePolicy, PolicyValidationError, type DealPolicy } from '../../domain/policy.js';
import { alwaysOpenPolicy, defaultPolicyDocument } from '../support/policies.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Resolved as of 2027, so the Polish holidays of 2027 are in the snapshot whatever year the test runs in.
const warsaw = resolvePolicy(defaultPolicyDocument(), new Date('2027-06-01T00:00:00Z'));
const warsawCalendar = warsaw.calendars['pl-sales']!;
const deal = warsaw.deal!;
const open = alwaysOpenPolicy();
const openCalendar = open.calendars['always-open']!;
const openDeal = open.deal!;

const at = (iso: string) => new Date(iso);

describe('deal policy', () => {
  test('the default policy carries the seed 000 handoff SLAs', () => {
    assert.deepEqual(deal.dossierDue, { amount: 48, unit: 'hours', clock: 'wall' });
    assert.deepEqual(deal.kickoffDue, { amount: 5, unit: 'days', clock: 'business' });
    assert.deepEqual(deal.firstQbrAfter, { amount: 90, unit: 'days', clock: 'wall' });
    assert.deepEqual(deal.qbrReminderBefore, { amount: 14, unit: 'days', clock: 'wall' });
    assert.equal(deal.repeatQbr, false);
    assert.deepEqual(deal.escalation.levels.map((level) => level.action), ['remind-owner', 'alert-manager']);
  });

  test('a QBR reminder counted on the business clock is refused', () => {
    const document = defaultPolicyDocument() as any;
    document.deal.qbrReminderBefore = { amount: 10, unit: 'days', clock: 'business' };
    assert.throws(() => parsePolicy(document), (error: unknown) => error instanceof PolicyValidationError && /deal\.qbrReminderBefore/.test(error.message));
  });

  test('a policy without a deal section still parses (versions published before deals existed)', () => {
    const { deal: _deal, ...document } = defaultPolicyDocument() as any;
    assert.equal(parsePolicy(document).deal, undefined);
  });
});

describe('deal milestone clocks', () => {
  test('kickoff: 5 business days after a Friday signature on the Warsaw calendar skips the weekend and 11 November', () => {
    // Friday 5 Nov 2027, 10:00 in Warsaw (CET); Thursday 11 Nov is Independence Day.
    const kickoff = kickoffMilestone(deal, warsawCalendar, at('2027-11-05T09:00:00Z'));
    assert.equal(kickoff.due.at, '2027-11-15T09:00:00.000Z', 'Monday 15 Nov, 10:00 Warsaw');
    assert.equal(kickoff.due.clock, 'business');
    assert.equal(kickoff.rule, '5 business days after signature');
    // Without the holiday in the week it is the next Friday.
    assert.equal(kickoffMilestone(deal, warsawCalendar, at('2027-10-22T08:00:00Z')).due.at, '2027-10-29T08:00:00.000Z');
  });

  test('dossier: 48 wall-clock hours after the win, weekends included', () => {
    const dossier = dossierMilestone(deal, warsawCalendar, at('2027-11-05T16:00:00Z'));
    assert.equal(dossier.due.at, '2027-11-07T16:00:00.000Z');
    assert.equal(dossier.rule, '48 h after win');
    assert.equal(dossier.owner, 'sales');
    assert.equal(dossier.remindAt, null);
  });

  test('QBR 1 falls due 90 days after signature with a reminder 14 days ahead; later QBRs count from the last one held', () => {
    const signed = at('2027-01-10T12:00:00Z');
    const qbr1 = qbrMilestone(deal, warsawCalendar, 1, signed);
    assert.equal(qbr1.key, 'qbr-1');
    assert.equal(qbr1.due.at, new Date(signed.getTime() + 90 * DAY).toISOString());
    assert.equal(qbr1.remindAt, new Date(signed.getTime() + 76 * DAY).toISOString());
    assert.equal(qbr1.rule, '90 days after signature');
    const repeating: DealPolicy = { ...deal, qbrInterval: { amount: 91, unit: 'days', clock: 'wall' } };
    const held = at('2027-04-20T10:00:00Z');
    const qbr2 = qbrMilestone(repeating, warsawCalendar, 2, held);
    assert.equal(qbr2.due.at, new Date(held.getTime() + 91 * DAY).toISOString());
    assert.equal(qbr2.rule, '91 days after QBR 1');
  });

  test('wake-ups are ordered and labelled for the Temporal UI', () => {
    const start = at('2027-03-01T08:00:00Z');
    const milestones = [dossierMilestone(openDeal, openCalendar, start), kickoffMilestone(openDeal, openCalendar, start), qbrMilestone(openDeal, openCalendar, 1, start)];
    const wakeUps = pendingDealWakeUps(milestones, openDeal.escalation.levels);
    assert.deepEqual(
      wakeUps.map((wake) => [wake.label, wake.at]),
      [
        ['Dossier due (48 h after win)', '2027-03-03T08:00:00.000Z'],
        ['Onboarding kickoff due (5 business days after signature)', '2027-03-06T08:00:00.000Z'],
        ['QBR 1 reminder (14 days ahead)', '2027-05-16T08:00:00.000Z'],
        ['QBR 1 due (90 days after signature)', '2027-05-30T08:00:00.000Z'],
      ],
    );
  });

  test('a breach starts the escalation ladder at the due time; each level counts from the previous one', () => {
    const start = at('2027-03-01T08:00:00Z');
    const dossier = breachMilestone(openCalendar, dossierMilestone(openDeal, openCalendar, start), openDeal.escalation.levels);
    assert.equal(dossier.breached, true);
    assert.equal(handoffStateOf([dossier]), 'breached');
    assert.deepEqual(pendingDealWakeUps([dossier], openDeal.escalation.levels).map((wake) => [wake.kind, wake.label, wake.at]), [
      ['escalation', 'Dossier overdue: remind sales owner', '2027-03-03T08:00:00.000Z'],
    ]);
    const reminded = advanceEscalation(openCalendar, dossier, openDeal.escalation.levels, at('2027-03-03T08:00:01Z'));
    assert.deepEqual(pendingDealWakeUps([reminded], openDeal.escalation.levels).map((wake) => [wake.label, wake.at]), [
      ['Dossier overdue: alert sales manager', '2027-03-03T12:00:01.000Z'],
    ]);
    const alerted = advanceEscalation(openCalendar, reminded, openDeal.escalation.levels, at('2027-03-03T12:00:01Z'));
    assert.deepEqual(pendingDealWakeUps([alerted], openDeal.escalation.levels), [], 'the ladder ends');
    const kickoff = breachMilestone(openCalendar, kickoffMilestone(openDeal, openCalendar, start), openDeal.escalation.levels);
    assert.equal(pendingDealWakeUps([kickoff], openDeal.escalation.levels)[0]!.label, 'Onboarding kickoff overdue: remind CS owner');
  });

  test('done on time: business minutes taken, none late; done late: the business minutes past due', () => {
    const signed = at('2027-11-05T09:00:00Z'); // Friday 10:00 Warsaw
    const kickoff = kickoffMilestone(deal, warsawCalendar, signed);
    const onTime = completeMilestone(warsawCalendar, kickoff, at('2027-11-08T10:00:00Z'), 'cs-1', at('2027-11-08T12:00:00Z'));
    assert.equal(onTime.breached, false);
    assert.equal(onTime.businessMinutesTaken, 7 * 60 + 2 * 60, 'Friday 10:00–17:00 and Monday 09:00–11:00 Warsaw');
    assert.equal(onTime.businessMinutesLate, 0);
    assert.equal(onTime.reportedAt, '2027-11-08T12:00:00.000Z');
    assert.equal(handoffStateOf([onTime]), 'on-track');

    const late = completeMilestone(warsawCalendar, kickoff, at('2027-11-16T09:00:00Z'), 'cs-1', at('2027-11-16T09:00:00Z'));
    assert.equal(late.breached, true);
    assert.equal(late.businessMinutesLate, 8 * 60, 'Monday 10:00–17:00 and Tuesday 09:00–10:00');
    const breachedThenDone = completeMilestone(warsawCalendar, breachMilestone(warsawCalendar, kickoff, deal.escalation.levels), at('2027-11-16T09:00:00Z'), 'cs-1', at('2027-11-16T09:00:00Z'));
    assert.equal(breachedThenDone.breached, true);
    assert.equal(breachedThenDone.nextEscalation, null);
    assert.equal(handoffStateOf([breachedThenDone]), 'on-track', 'nothing is overdue any more');
  });

  test('durations read like the policy', () => {
    assert.equal(describeDuration({ amount: 48, unit: 'hours', clock: 'wall' }), '48 h');
    assert.equal(describeDuration({ amount: 5, unit: 'days', clock: 'business' }), '5 business days');
    assert.equal(describeDuration({ amount: 1, unit: 'days', clock: 'business' }), '1 business day');
    assert.equal(describeDuration({ amount: 4, unit: 'seconds', clock: 'wall' }), '4 s');
  });
});

describe('deal stages and steps', () => {
  const facts = { dossierDone: false, kickoffDone: false, qbrsHeld: 0 };

  test('the stage follows from what is done', () => {
    assert.equal(dealStageOf(facts), 'AWAITING_DOSSIER');
    assert.equal(dealStageOf({ ...facts, kickoffDone: true }), 'AWAITING_DOSSIER');
    assert.equal(dealStageOf({ ...facts, dossierDone: true }), 'AWAITING_KICKOFF');
    assert.equal(dealStageOf({ ...facts, dossierDone: true, kickoffDone: true }), 'ONBOARDING');
    assert.equal(dealStageOf({ dossierDone: true, kickoffDone: true, qbrsHeld: 1 }), 'AWAITING_QBR');
  });

  test('kickoff may precede the dossier; a QBR needs both; a dossier is delivered once; nothing after the end', () => {
    assert.equal(dealStepRefusal('kickoff', { ...facts, stage: 'AWAITING_DOSSIER' }), null);
    assert.match(dealStepRefusal('qbr', { ...facts, kickoffDone: true, stage: 'AWAITING_DOSSIER' })!, /dossier and the onboarding kickoff come first/);
    assert.match(dealStepRefusal('dossier', { ...facts, dossierDone: true, stage: 'AWAITING_KICKOFF' })!, /already delivered/);
    assert.match(dealStepRefusal('kickoff', { ...facts, kickoffDone: true, stage: 'AWAITING_DOSSIER' })!, /already recorded/);
    assert.equal(dealStepRefusal('close-out', { ...facts, stage: 'AWAITING_DOSSIER' }), null);
    assert.match(dealStepRefusal('close-out', { ...facts, stage: 'CLOSED_OUT' })!, /over/);
    assert.match(dealStepRefusal('qbr', { dossierDone: true, kickoffDone: true, qbrsHeld: 1, stage: 'COMPLETED' })!, /over/);
  });
});

describe('incident resolution clocks', () => {
  test('critical and significant get their allowance from the opening; a severity without one gets no clock', async () => {
    const { incidentMilestone, isIncidentClock } = await import('../../domain/deal-clocks.js');
    const { parsePolicy } = await import('../../domain/policy.js');
    const { defaultPolicyDocument } = await import('../support/policies.js');
    const policy = parsePolicy(defaultPolicyDocument());
    const calendar = policy.calendars[policy.defaultCalendarId]!;
    const openedAt = new Date('2026-12-04T16:00:00Z'); // a Friday afternoon: the wall clock runs through the weekend
    const critical = incidentMilestone(policy.deal!, calendar, { incidentId: 'INC-1', severity: 'critical', openedAt })!;
    assert.deepEqual([critical.key, critical.kind, critical.owner, critical.due.at, critical.rule], ['INC-1', 'incident-critical', 'cs', '2026-12-05T16:00:00.000Z', '24 h to resolve']);
    assert.equal(isIncidentClock(critical), true);
    const significant = incidentMilestone(policy.deal!, calendar, { incidentId: 'INC-2', severity: 'significant', openedAt })!;
    assert.equal(significant.due.at, '2026-12-07T16:00:00.000Z');
    assert.equal(incidentMilestone(policy.deal!, calendar, { incidentId: 'INC-3', severity: 'minor', openedAt }), null);
  });

  test('an allowance in business time counts on the deal calendar: 8 business hours from Friday 16:00 in Warsaw end Monday 15:00', async () => {
    const { incidentMilestone } = await import('../../domain/deal-clocks.js');
    const { parsePolicy } = await import('../../domain/policy.js');
    const { defaultPolicyDocument } = await import('../support/policies.js');
    const document = defaultPolicyDocument() as any;
    document.deal.incidents.resolveWithin.critical = { amount: 8, unit: 'hours', clock: 'business' };
    const policy = parsePolicy(document);
    const calendar = policy.calendars[policy.defaultCalendarId]!;
    // Friday 2026-12-04 16:00 Warsaw (15:00 UTC): 1 business hour left that day, 7 on Monday from 09:00.
    const clock = incidentMilestone(policy.deal!, calendar, { incidentId: 'INC-1', severity: 'critical', openedAt: new Date('2026-12-04T15:00:00Z') })!;
    assert.equal(clock.due.at, '2026-12-07T15:00:00.000Z');
    assert.equal(clock.rule, '8 business hours to resolve');
  });

  test('an incident is resolved after the handoff ended; none is opened then', async () => {
    const { dealStepRefusal } = await import('../../domain/deal-lifecycle.js');
    const done = { stage: 'COMPLETED' as const, dossierDone: true, kickoffDone: true, qbrsHeld: 1 };
    assert.equal(dealStepRefusal('resolve-incident', done), null);
    assert.match(dealStepRefusal('incident', done)!, /handoff is over/);
  });
});

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { defaultPolicy } from '../support/policies.js';
import { assertInstantNear, eventually, startLeadHarness, type LeadHarness } from '../support/lead-harness.js';
import { workflowBundle } from '../support/temporal.js';
import { DueSoonAtKey } from '../../workflows/search-attributes.js';

/**
 * The default policy's Warsaw calendar on a real (time-skipping) Temporal server: deadlines given in
 * business hours land where a person in Warsaw would put them. Tests move server time forward to fixed
 * instants, so they run in calendar order; a lead starts a few milliseconds after the instant skipped to.
 */
describe('speed-to-lead deadlines on the Warsaw business calendar', () => {
  let harness: LeadHarness;
  before(async () => {
    harness = await startLeadHarness('business-time');
  });
  after(async () => {
    await harness?.stop();
  });

  async function startTier2At(instant: string) {
    const skipBy = Date.parse(instant) - (await harness.now());
    assert.ok(skipBy > 0, `test server time is already past ${instant}`);
    await harness.skipTime(skipBy);
    const lead = await harness.startLead({ policy: defaultPolicy(new Date(instant)), tier: 2 });
    const state = await harness.state(lead.handle);
    return { lead, state, deadline: state.deadlines.find((deadline) => deadline.kind === 'speed-to-lead')! };
  }

  test('4 business hours from Friday 17:30 in Warsaw fall on Monday at 13:00', async () => {
    const { deadline, state } = await startTier2At('2027-01-15T16:30:00Z'); // Friday 17:30 CET
    assert.equal(state.calendarId, 'pl-sales');
    assert.equal(deadline.dueAt, '2027-01-18T12:00:00.000Z'); // Monday 13:00 CET
    // Friday evening is outside working hours: the whole budget of 240 business minutes is left, in Warsaw time.
    assert.deepEqual(
      { remaining: state.sla.remainingMinutes, clock: state.sla.clock, zone: state.sla.timeZone },
      { remaining: 240, clock: 'business', zone: 'Europe/Warsaw' },
    );
  });

  test('a deadline across the spring DST change and Easter Monday is the same local hour, and its history replays to the same timers', async () => {
    const { lead, deadline } = await startTier2At('2027-03-26T15:00:00Z'); // Friday 16:00 CET; clocks go forward on Easter Sunday
    // One hour on Friday, Easter Monday closed, three hours on Tuesday: 12:00 CEST, not the 11:00 a fixed offset gives.
    assertInstantNear(deadline.dueAt, '2027-03-30T10:00:00.000Z', 'Tuesday 12:00 CEST', 1_000);

    // The timer is armed once routing has answered.
    const history = await eventually(
      () => lead.handle.fetchHistory(),
      (candidate) => candidate.events!.some((event) => event.timerStartedEventAttributes),
      'the first timer',
    );
    const timerFiresAt = history.events!.flatMap((event) => {
      const timer = event.timerStartedEventAttributes;
      if (!timer) return [];
      const startedMs = Number(event.eventTime!.seconds) * 1000 + Math.floor((event.eventTime!.nanos ?? 0) / 1e6);
      return [startedMs + Number(timer.startToFireTimeout!.seconds) * 1000];
    });
    // The first wake-up is the deadline itself; its due-soon mark, 5 minutes (wall clock) before, is shown by
    // DueSoonAt and wakes nothing (patch 'lean-clocks').
    assertInstantNear(timerFiresAt[0]!, '2027-03-30T10:00:00.000Z', 'the first timer', 1_000);
    const dueSoonAt = (await lead.handle.describe()).typedSearchAttributes.get(DueSoonAtKey);
    assertInstantNear(dueSoonAt!.getTime(), '2027-03-30T09:55:00.000Z', 'DueSoonAt', 1_000);

    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, lead.workflowId);
    if (process.env.RECORD_HISTORIES) {
      writeFileSync(new URL('../histories/lead-dst-warsaw.json', import.meta.url), historyToJSON(history) + '\n');
    }
  });

  test('4 business hours skip a Polish public holiday on the Monday after', async () => {
    const { deadline } = await startTier2At('2027-04-30T14:00:00Z'); // Friday 16:00 CEST; Monday 3 May is Constitution Day
    assertInstantNear(deadline.dueAt, '2027-05-04T10:00:00.000Z', 'Tuesday 12:00 CEST', 1_000);
  });
});

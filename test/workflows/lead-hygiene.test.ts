import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { qualifyLeadUpdate, setNextStepUpdate, updateOpportunityUpdate } from '../../workflows/lead-definitions.js';
import {
  accept,
  assertInstantNear,
  assertRefused,
  DAY,
  eventually,
  logAttempt,
  MANAGER,
  MINUTE,
  plus,
  settle,
  startLeadHarness,
  type LeadHandle,
  type LeadHarness,
} from '../support/lead-harness.js';

/** Opportunity hygiene of an SQL (seed 000) on the default policy: a weekly check, 7 days to stale, 2 reminders before the manager. */
describe('opportunity hygiene on the time-skipping server', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('hygiene');
  });
  afterEach(async () => {
    await h.cleanup();
  });
  after(async () => {
    await h?.stop();
  });

  async function sqlLead() {
    const lead = await h.startRoutedLead({ tier: 2 });
    const owner = lead.state.ownerId!;
    await accept(lead.handle, owner);
    await logAttempt(lead.handle, owner, 'phone', 'connected');
    const qualified = await lead.handle.executeUpdate(qualifyLeadUpdate, { args: [{ actor: owner, need: true, budget: true, timing: true }] });
    assert.equal(qualified.stage, 'SQL');
    return { ...lead, owner, qualified };
  }

  const hygieneEvents = async (leadId: string) => (await h.events(leadId)).filter((event) => event.type.startsWith('hygiene-'));
  const nextStepIn = async (handle: LeadHandle, actor: string, ms: number) =>
    handle.executeUpdate(setNextStepUpdate, { args: [{ actor, dueAt: plus(new Date(await h.now()), ms), type: 'meeting' }] });

  test('a stale opportunity with no next step: the owner reminded twice, a week apart, then the manager alerted', async () => {
    const { leadId, handle, owner, qualified } = await sqlLead();
    assert.deepEqual(qualified.opportunity, { stage: null, amount: null, updatedAt: qualified.enteredStageAt, nextStep: null });
    const firstCheck = qualified.hygiene!.nextCheckAt;
    assert.equal(firstCheck, plus(qualified.enteredStageAt, 7 * DAY));

    await h.skipTime(7 * DAY - MINUTE);
    await settle(handle);
    assert.equal((await hygieneEvents(leadId)).length, 0, 'nothing before the first weekly check');

    await h.skipTime(2 * MINUTE);
    const first = await h.waitForEvent(leadId, 'hygiene-reminder');
    assert.deepEqual(first.payload.problems, ['stale', 'no-next-step']);
    assertInstantNear(first.at, firstCheck, 'the first check');
    const reminder = await h.waitForNotification(handle.workflowId, 'opportunity.hygiene-reminder');
    assert.deepEqual(reminder.recipients, [owner]);

    await h.skipTime(7 * DAY);
    await eventually(() => hygieneEvents(leadId), (events) => events.length === 2, 'the second reminder');
    assert.equal(h.notificationsOf(handle.workflowId, 'opportunity.hygiene-manager-alert').length, 0, 'two reminders before the manager hears');

    await h.skipTime(7 * DAY);
    const escalated = await h.waitForEvent(leadId, 'hygiene-escalated');
    assert.deepEqual([escalated.payload.failedChecks, escalated.payload.managerId], [3, MANAGER]);
    const alert = await h.waitForNotification(handle.workflowId, 'opportunity.hygiene-manager-alert');
    assert.deepEqual(alert.recipients, [MANAGER]);
    assert.equal((await hygieneEvents(leadId)).filter((event) => event.type === 'hygiene-reminder').length, 2);
  });

  test('an updated opportunity with a next step ahead passes the check; an overdue next step is reminded', async () => {
    const { leadId, handle, owner } = await sqlLead();
    await h.skipTime(DAY);
    await nextStepIn(handle, owner, 8 * DAY); // due on day 9
    const updated = await handle.executeUpdate(updateOpportunityUpdate, { args: [{ actor: owner, stage: 'proposal', amount: 48_000 }] });
    assert.deepEqual([updated.opportunity!.stage, updated.opportunity!.amount], ['proposal', 48_000]);

    await h.skipTime(6 * DAY + MINUTE); // the day-7 check: updated 6 days ago, next step ahead
    await settle(handle);
    assert.equal((await hygieneEvents(leadId)).length, 0, 'a healthy opportunity is not reminded');
    assert.equal((await h.state(handle)).hygiene!.failedChecks, 0);

    await handle.executeUpdate(updateOpportunityUpdate, { args: [{ actor: owner, stage: 'negotiation', amount: 45_000 }] });
    await h.skipTime(7 * DAY); // the day-14 check: updated a week ago less a minute, but the day-9 next step is overdue
    const overdue = await h.waitForEvent(leadId, 'hygiene-reminder');
    assert.deepEqual(overdue.payload.problems, ['next-step-overdue']);
    assert.equal(overdue.payload.failedChecks, 1);
  });

  test('a next step in the past, or before qualification, is refused', async () => {
    const { handle, owner } = await sqlLead();
    await assertRefused(nextStepIn(handle, owner, -MINUTE), /is in the past/);
    const sal = await h.startRoutedLead({ tier: 2 });
    await accept(sal.handle, sal.state.ownerId!);
    await assertRefused(nextStepIn(sal.handle, sal.state.ownerId!, DAY), /cannot set the next step of a lead in stage SAL/);
  });
});

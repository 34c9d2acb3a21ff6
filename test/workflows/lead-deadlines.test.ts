import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { IcpTier } from '../../domain/policy.js';
import type { ScoreComponents } from '../../domain/scoring.js';
import { pauseLeadUpdate, reassignLeadUpdate, resumeLeadUpdate, type PendingDeadline } from '../../workflows/lead-definitions.js';
import {
  accept,
  assertInstantNear,
  assertRefused,
  DAY,
  eventually,
  HOUR,
  INBOUND_QUEUE,
  logAttempt,
  MANAGER,
  MINUTE,
  plus,
  REP_A,
  REP_B,
  scores,
  settle,
  startLeadHarness,
  type LeadHarness,
} from '../support/lead-harness.js';

interface TierCase {
  name: string;
  tier: IcpTier;
  score: ScoreComponents;
  allowanceMs: number;
}

const tierCases: TierCase[] = [
  { name: 'Tier 1 (15 minutes)', tier: 1, score: scores.mql, allowanceMs: 15 * MINUTE },
  { name: 'Tier 2 (4 hours)', tier: 2, score: scores.mql, allowanceMs: 4 * HOUR },
  { name: 'Tier 3 (1 business day = 24 h on the 24/7 calendar)', tier: 3, score: scores.mql, allowanceMs: DAY },
  { name: 'hot lead (5 minutes, even on Tier 3)', tier: 3, score: scores.hot, allowanceMs: 5 * MINUTE },
];

const otherRep = (repId: string | null): string => (repId === REP_A ? REP_B : REP_A);

describe('lead deadlines on the time-skipping server', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('deadlines');
  });
  afterEach(async () => {
    await h.cleanup();
  });
  after(async () => {
    await h?.stop();
  });

  describe('speed-to-lead met in time', () => {
    for (const tierCase of tierCases) {
      test(tierCase.name, async () => {
        const { leadId, handle, state } = await h.startRoutedLead({ tier: tierCase.tier, score: tierCase.score });
        const clock = state.speedToLead!;
        const deadline = clock.due.at;
        assert.equal(deadline, plus(clock.startedAt, tierCase.allowanceMs), 'the deadline is the tier allowance after the lead became MQL');

        // The rep answers two minutes before the deadline.
        await h.skipTime(tierCase.allowanceMs - 2 * MINUTE);
        const owner = state.ownerId!;
        await accept(handle, owner);
        const afterAttempt = await logAttempt(handle, owner, 'phone', 'no-answer');
        assert.equal(afterAttempt.speedToLead, null, 'the first attempt stops the clock');

        const met = await h.waitForEvent(leadId, 'speed-to-lead-met');
        assert.equal(met.payload.breached, false);
        assert.equal(met.payload.by, 'first-attempt');
        assert.equal(met.payload.dueAt, deadline);
        assert.ok(met.at.getTime() < Date.parse(deadline), 'met before the deadline');
        assert.ok(Math.abs((met.payload.businessMinutes as number) - (tierCase.allowanceMs - 2 * MINUTE) / MINUTE) < 1, `businessMinutes ${String(met.payload.businessMinutes)}`);

        // Well past the old deadline nothing breaches or escalates.
        await h.skipTime(30 * MINUTE);
        await settle(handle);
        const types = (await h.events(leadId)).map((event) => event.type);
        assert.ok(!types.includes('sla-breached'), `no breach expected: ${types.join(', ')}`);
        assert.ok(!types.includes('escalated'), `no escalation expected: ${types.join(', ')}`);
        assert.equal(h.notificationsOf(handle.workflowId, 'speed-to-lead.reminder').length, 0);
        const slaState = await h.slaState(handle);
        assert.notEqual(slaState, 'breached');
        assert.equal(slaState, 'none', 'a met clock leaves no SLA running');
        assert.equal((await h.state(handle)).slaState, 'none');
      });
    }
  });

  describe('speed-to-lead missed', () => {
    for (const tierCase of tierCases) {
      test(tierCase.name, async () => {
        const { leadId, handle, state } = await h.startRoutedLead({ tier: tierCase.tier, score: tierCase.score });
        const deadline = state.speedToLead!.due.at;
        assert.equal(deadline, plus(state.speedToLead!.startedAt, tierCase.allowanceMs));
        // A hot lead's 5 minutes are all inside the 5-minute due-soon window.
        assert.equal(await h.slaState(handle), tierCase.allowanceMs > 5 * MINUTE ? 'on-track' : 'due-soon');

        // Just before the deadline: nothing yet.
        await h.skipTime(tierCase.allowanceMs - MINUTE);
        await settle(handle);
        assert.ok(!(await h.events(leadId)).some((event) => event.type === 'sla-breached'), 'no breach a minute before the deadline');
        // Due soon shows from DueSoonAt: no timer woke the lead for it, its one timer is the deadline (patch 'lean-clocks').
        assert.equal(await h.slaState(handle), 'due-soon');
        const timers = (await handle.fetchHistory()).events!.flatMap((event) => (event.timerStartedEventAttributes ? [event] : []));
        assert.equal(timers.length, 1, 'one timer before the deadline');

        await h.skipTime(2 * MINUTE);
        const breached = await h.waitForEvent(leadId, 'sla-breached');
        assert.equal(breached.payload.deadline, 'speed-to-lead');
        assert.equal(breached.payload.dueAt, deadline);
        assert.equal(breached.payload.ownerId, state.ownerId);
        assertInstantNear(breached.at, deadline, 'the breach is recorded at the deadline');

        const reminder = await h.waitForNotification(handle.workflowId, 'speed-to-lead.reminder');
        assert.deepEqual(reminder.recipients, [state.ownerId]);
        assert.equal(reminder.details.dueAt, deadline);

        const slaState = await h.slaState(handle);
        assert.equal(slaState, 'breached');
        const now = await h.state(handle);
        assert.equal(now.slaState, 'breached');
        assert.equal(now.escalationLevel, 1);
      });
    }
  });

  test('the full escalation ladder on the default levels ends in nurture with reason sla-expired', async () => {
    const { leadId, workflowId, handle, state } = await h.startRoutedLead({ tier: 1 });
    const firstRunId = handle.firstExecutionRunId;
    const firstOwner = state.ownerId!;
    const secondOwner = otherRep(firstOwner);
    const deadline = state.speedToLead!.due.at;
    assert.equal(deadline, plus(state.speedToLead!.startedAt, 15 * MINUTE));
    const escalations = async (count: number) =>
      (
        await h.waitForEvent(leadId, 'escalated', (event) => event.payload.level === count).then(() => h.events(leadId))
      ).filter((event) => event.type === 'escalated');

    // Level 1 at the deadline: remind the owner.
    await h.skipTime(16 * MINUTE);
    let ladder = await escalations(1);
    const remind = ladder[0]!;
    assert.deepEqual([remind.payload.level, remind.payload.action, remind.payload.deadline, remind.payload.dueAt], [1, 'remind-owner', 'speed-to-lead', deadline]);
    assertInstantNear(remind.at, deadline, 'remind-owner fires at the deadline');
    const reminder = await h.waitForNotification(workflowId, 'speed-to-lead.reminder');
    assert.deepEqual(reminder.recipients, [firstOwner]);
    assert.equal(ladder.length, 1);

    // Level 2, 15 minutes later: alert the manager.
    await h.skipTime(15 * MINUTE);
    ladder = await escalations(2);
    const alert = ladder[1]!;
    assert.deepEqual([alert.payload.level, alert.payload.action, alert.payload.dueAt, alert.payload.managerId], [2, 'alert-manager', deadline, MANAGER]);
    assertInstantNear(alert.at, plus(remind.at, 15 * MINUTE), 'alert-manager fires 15 minutes after the reminder');
    const managerAlert = await h.waitForNotification(workflowId, 'speed-to-lead.manager-alert');
    assert.deepEqual(managerAlert.recipients, [MANAGER]);
    assert.equal(managerAlert.details.dueAt, deadline);
    assert.equal(ladder.length, 2);

    // Level 3, 30 minutes after that: reassign to the other rep with a fresh deadline.
    await h.skipTime(30 * MINUTE);
    ladder = await escalations(3);
    const reassign = ladder[2]!;
    assert.deepEqual(
      [reassign.payload.level, reassign.payload.action, reassign.payload.dueAt, reassign.payload.from, reassign.payload.to],
      [3, 'reassign', deadline, firstOwner, secondOwner],
    );
    assertInstantNear(reassign.at, plus(alert.at, 30 * MINUTE), 'reassign fires 30 minutes after the manager alert');
    const freshDeadline = reassign.payload.freshDueAt as string;
    assert.equal(freshDeadline, plus(reassign.at, 15 * MINUTE), 'the new owner gets the full Tier 1 allowance from the reassignment');
    const reassigned = await h.waitForNotification(workflowId, 'lead.reassigned');
    assert.deepEqual(reassigned.recipients, [secondOwner, firstOwner, MANAGER]);
    const afterReassign = await h.state(handle);
    assert.equal(afterReassign.ownerId, secondOwner);
    assert.equal(afterReassign.queueId, INBOUND_QUEUE);
    assert.equal(afterReassign.speedToLead!.due.at, freshDeadline);
    assert.equal(afterReassign.speedToLead!.breached, false);
    assert.notEqual(await h.slaState(handle), 'breached', 'the fresh deadline is not breached yet');

    // The fresh deadline is missed too: return to marketing.
    await h.skipTime(15 * MINUTE);
    ladder = await escalations(4);
    const giveUp = ladder[3]!;
    assert.deepEqual([giveUp.payload.level, giveUp.payload.action, giveUp.payload.dueAt], [4, 'return-to-marketing', freshDeadline]);
    assertInstantNear(giveUp.at, freshDeadline, 'return-to-marketing fires at the fresh deadline');
    assert.equal(ladder.length, 4);
    const freshBreach = await h.waitForEvent(leadId, 'sla-breached', (event) => event.payload.dueAt === freshDeadline);
    assert.equal(freshBreach.payload.ownerId, secondOwner);

    const nurtured = await h.waitForEvent(leadId, 'returned-to-nurture');
    assert.equal(nurtured.payload.reason, 'sla-expired');
    const final = await h.state(handle); // follows the run the return to nurture continued into
    assert.equal(final.stage, 'NURTURE');
    assert.equal(final.nurtureReason, 'sla-expired');
    assert.equal(final.speedToLead, null);
    const firstRun = await h.env.client.workflow.getHandle(workflowId, firstRunId).describe();
    assert.equal(firstRun.status.name, 'CONTINUED_AS_NEW');
  });

  test('a manager reassigning by hand gives the new owner a fresh deadline', async () => {
    const { leadId, workflowId, handle, state } = await h.startRoutedLead({ tier: 1 });
    const firstOwner = state.ownerId!;
    const originalDeadline = state.speedToLead!.due.at;

    await h.skipTime(10 * MINUTE);
    const view = await handle.executeUpdate(reassignLeadUpdate, { args: [{ actor: MANAGER, reason: 'owner is at a conference' }] });
    assert.equal(view.ownerId, otherRep(firstOwner));
    const event = await h.waitForEvent(leadId, 'reassigned');
    assert.equal(event.actor, MANAGER);
    assert.deepEqual([event.payload.from, event.payload.to], [firstOwner, otherRep(firstOwner)]);
    const freshDeadline = event.payload.freshDueAt as string;
    assert.equal(freshDeadline, plus(event.at, 15 * MINUTE));
    assert.equal(view.speedToLead!.due.at, freshDeadline);
    assert.ok(freshDeadline > originalDeadline);
    const notification = await h.waitForNotification(workflowId, 'lead.reassigned');
    assert.deepEqual(notification.recipients, [otherRep(firstOwner), firstOwner]);

    // Past the original deadline, before the fresh one: no breach.
    await h.skipTime(10 * MINUTE);
    await settle(handle);
    assert.ok(!(await h.events(leadId)).some((e) => e.type === 'sla-breached'), 'the original deadline no longer counts');
    assert.notEqual(await h.slaState(handle), 'breached');

    await h.skipTime(6 * MINUTE);
    const breached = await h.waitForEvent(leadId, 'sla-breached');
    assert.equal(breached.payload.dueAt, freshDeadline);
    assert.equal(breached.payload.ownerId, otherRep(firstOwner));
    const reminder = await h.waitForNotification(workflowId, 'speed-to-lead.reminder');
    assert.deepEqual(reminder.recipients, [otherRep(firstOwner)]);
  });

  describe('pause and resume', () => {
    const dueShifts = (before: PendingDeadline[], after: PendingDeadline[]) =>
      after.map((deadline, index) => {
        assert.equal(deadline.label, before[index]?.label, 'the same deadlines, in the same order');
        return Date.parse(deadline.dueAt) - Date.parse(before[index]!.dueAt);
      });

    test('pausing for an hour moves every pending due time by exactly the paused time', async () => {
      const { leadId, handle, state } = await h.startRoutedLead({ tier: 2 });
      const owner = state.ownerId!;
      await accept(handle, owner);
      // Attempt 1 is due at acceptance itself; once the lead has dealt with it, every pending due time is in the future.
      const accepted = await h.waitForEvent(leadId, 'accepted');
      const beforePause = await eventually(
        () => h.state(handle),
        (current) => current.deadlines.every((deadline) => deadline.dueAt > accepted.at.toISOString()),
        'attempt 1 (due at acceptance) to be dealt with',
      );
      const before = beforePause.deadlines;
      assert.deepEqual(
        before.map((deadline) => deadline.kind),
        ['speed-to-lead', 'cadence-attempt', 'cadence-attempt', 'cadence-attempt', 'cadence-attempt', 'cadence-window'],
      );
      assert.equal(before[0]!.dueAt, beforePause.speedToLead!.due.at);
      assert.equal(before[1]!.dueAt, plus(accepted.at, DAY), 'attempt 2 is due one day after acceptance');

      await h.skipTime(30 * MINUTE);
      const paused = await handle.executeUpdate(pauseLeadUpdate, { args: [{ actor: owner, reason: 'prospect on holiday' }] });
      assert.ok(paused.paused, 'the lead is paused');
      assert.deepEqual(paused.deadlines, [], 'a paused lead waits for nothing');
      await h.skipTime(HOUR);
      const resumed = await handle.executeUpdate(resumeLeadUpdate, { args: [{ actor: owner }] });
      assert.equal(resumed.paused, null);

      const resumedEvent = await h.waitForEvent(leadId, 'resumed');
      const pausedFor = resumedEvent.at.getTime() - Date.parse(paused.paused!.since);
      assert.ok(Math.abs(pausedFor - HOUR) < 10_000, `paused for ${pausedFor} ms`);
      assert.equal(resumedEvent.payload.pausedBusinessMinutes, pausedFor / MINUTE);
      assert.deepEqual(dueShifts(before, resumed.deadlines), before.map(() => pausedFor), 'every pending due time moved by the paused time');
      assert.deepEqual(resumedEvent.payload.deadlines, resumed.deadlines);
      assert.equal(resumed.speedToLead!.due.at, plus(before[0]!.dueAt, pausedFor));

      // The timer moved too: the original deadline passes quietly, the shifted one breaches.
      const originalDeadline = before[0]!.dueAt;
      const shiftedDeadline = resumed.speedToLead!.due.at;
      await h.skipTime(Date.parse(originalDeadline) - (await h.now()) + MINUTE);
      await settle(handle);
      assert.ok(!(await h.events(leadId)).some((event) => event.type === 'sla-breached'), 'no breach at the original deadline');
      await h.skipTime(Date.parse(shiftedDeadline) - (await h.now()) + MINUTE);
      const breached = await h.waitForEvent(leadId, 'sla-breached');
      assert.equal(breached.payload.dueAt, shiftedDeadline);
      assertInstantNear(breached.at, shiftedDeadline, 'the breach comes at the shifted deadline');
    });

    test('a pause with `until` resumes by itself at `until`', async () => {
      const { leadId, handle, state } = await h.startRoutedLead({ tier: 2 });
      const before = state.deadlines;
      assert.deepEqual(before.map((deadline) => deadline.kind), ['speed-to-lead']);
      const until = new Date((await h.now()) + HOUR).toISOString();
      const paused = await handle.executeUpdate(pauseLeadUpdate, { args: [{ actor: MANAGER, until, reason: 'waiting for the trade fair' }] });
      assert.equal(paused.paused!.until, until);

      await h.skipTime(HOUR - MINUTE);
      await settle(handle);
      assert.ok((await h.state(handle)).paused, 'still paused before `until`');

      await h.skipTime(2 * MINUTE);
      const resumed = await h.waitForEvent(leadId, 'resumed');
      assert.equal(resumed.actor, 'system');
      assertInstantNear(resumed.at, until, 'auto-resume happens at `until`');
      const pausedFor = resumed.at.getTime() - Date.parse(paused.paused!.since);
      const after = await h.state(handle);
      assert.equal(after.paused, null);
      assert.deepEqual(dueShifts(before, after.deadlines), [pausedFor]);
      assert.equal(after.speedToLead!.due.at, plus(state.speedToLead!.due.at, pausedFor));
    });

    test('contact attempts are refused while the lead is paused, and no deadline fires', async () => {
      const { leadId, handle, state } = await h.startRoutedLead({ tier: 1 });
      const owner = state.ownerId!;
      await accept(handle, owner);
      await handle.executeUpdate(pauseLeadUpdate, { args: [{ actor: owner, reason: 'prospect asked for a call next week' }] });

      await assertRefused(logAttempt(handle, owner, 'phone', 'no-answer'), /paused/);
      // Well past the Tier 1 deadline while paused: nothing breaches.
      await h.skipTime(30 * MINUTE);
      await settle(handle);
      await assertRefused(logAttempt(handle, owner, 'email', 'no-answer'), /paused/);
      const types = (await h.events(leadId)).map((event) => event.type);
      assert.ok(!types.includes('sla-breached'), `no breach while paused: ${types.join(', ')}`);
      assert.ok(!types.includes('contact-attempted'), 'refused attempts are not recorded');
      assert.equal((await h.state(handle)).attempts.length, 0);

      await handle.executeUpdate(resumeLeadUpdate, { args: [{ actor: owner }] });
      const logged = await logAttempt(handle, owner, 'phone', 'connected');
      assert.equal(logged.attempts.length, 1);
      const met = await h.waitForEvent(leadId, 'speed-to-lead-met');
      assert.equal(met.payload.breached, false, 'paused time did not count against the deadline');
    });
  });
});

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { rejectionReasons } from '../../domain/lead-lifecycle.js';
import {
  closeLeadUpdate,
  qualifyLeadUpdate,
  recordEngagementUpdate,
  rejectLeadUpdate,
  type LeadView,
} from '../../workflows/lead-definitions.js';
import {
  accept,
  assertInstantNear,
  assertRefused,
  DAY,
  eventually,
  HOUR,
  logAttempt,
  MINUTE,
  plus,
  policyWith,
  REP_A,
  REP_B,
  scores,
  settle,
  startLeadHarness,
  type LeadHandle,
  type LeadHarness,
} from '../support/lead-harness.js';

const qualify = (handle: LeadHandle, actor: string) => handle.executeUpdate(qualifyLeadUpdate, { args: [{ actor, need: true, budget: true, timing: true }] });

describe('lead cadence, rejection, engagement and close on the time-skipping server', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('cadence');
  });
  afterEach(async () => {
    await h.cleanup();
  });
  after(async () => {
    await h?.stop();
  });

  /** A routed Tier 2 MQL accepted by its owner; returns the state right after acceptance. */
  async function acceptedLead(options: Parameters<LeadHarness['startRoutedLead']>[0] = {}) {
    const lead = await h.startRoutedLead({ tier: 2, ...options });
    const owner = lead.state.ownerId!;
    const accepted = await accept(lead.handle, owner);
    assert.equal(accepted.stage, 'SAL');
    const acceptedAt = accepted.cadence!.startedAt;
    return { ...lead, owner, accepted, acceptedAt };
  }

  /** Attempt numbers of the 'cadence.attempt-due' reminders sent about the lead. */
  const remindedAttempts = (workflowId: string): number[] =>
    h.notificationsOf(workflowId, 'cadence.attempt-due').map((n) => n.details.attempt as number);

  test('five attempts on time, the fifth connects: the cadence ends and the lead qualifies to SQL', async () => {
    const { leadId, workflowId, handle, owner, acceptedAt } = await acceptedLead();
    const plan = [
      { channel: 'phone', outcome: 'no-answer' },
      { channel: 'email', outcome: 'left-voicemail' },
      { channel: 'linkedin', outcome: 'no-answer' },
      { channel: 'phone', outcome: 'no-answer' },
      { channel: 'email', outcome: 'connected' },
    ] as const;
    let view: LeadView | undefined;
    for (const [index, attempt] of plan.entries()) {
      // Attempt n is due (n-1) days after acceptance; each is logged half a day before that.
      if (index > 0) await h.skipTime(index === 1 ? 12 * HOUR : DAY);
      view = await logAttempt(handle, owner, attempt.channel, attempt.outcome);
      assert.ok(Date.parse(view.attempts[index]!.at) < Date.parse(plus(acceptedAt, index * DAY)) || index === 0, `attempt ${index + 1} logged before it was due`);
    }
    assert.equal(view!.attempts.length, 5);
    assert.equal(view!.cadence, null, 'a connected call ends the cadence');
    const ended = await h.waitForEvent(leadId, 'cadence-ended');
    assert.deepEqual([ended.payload.by, ended.payload.attempts], ['connected', 5]);
    const met = await h.waitForEvent(leadId, 'speed-to-lead-met');
    assert.equal(met.payload.breached, false);

    // Past the cadence window the lead is still the rep's, and no reminder ever went out for an attempt logged early.
    await h.skipTime(2 * DAY);
    await settle(handle);
    const early = remindedAttempts(workflowId).filter((attempt) => attempt >= 2);
    assert.deepEqual(early, [], 'no reminder for attempts logged before their due time');
    assert.ok(remindedAttempts(workflowId).filter((attempt) => attempt === 1).length <= 1);
    const stillSal = await h.state(handle);
    assert.equal(stillSal.stage, 'SAL');
    assert.ok(!(await h.events(leadId)).some((event) => event.type === 'returned-to-nurture'));

    const qualified = await qualify(handle, owner);
    assert.equal(qualified.stage, 'SQL');
    const event = await h.waitForEvent(leadId, 'qualified');
    assert.deepEqual([event.payload.from, event.payload.to], ['SAL', 'SQL']);
  });

  test("a reply on attempt 2 ends the cadence early: no more reminders, the lead stays SAL", async () => {
    const { leadId, workflowId, handle, owner } = await acceptedLead();
    await logAttempt(handle, owner, 'phone', 'no-answer');
    await h.skipTime(6 * HOUR);
    const replied = await logAttempt(handle, owner, 'email', 'replied');
    assert.equal(replied.cadence, null);
    assert.deepEqual(replied.deadlines, [], 'nothing left to wait for');
    const ended = await h.waitForEvent(leadId, 'cadence-ended');
    assert.deepEqual([ended.payload.by, ended.payload.attempts], ['replied', 2]);

    await h.skipTime(6 * DAY);
    await settle(handle);
    assert.deepEqual(remindedAttempts(workflowId).filter((attempt) => attempt >= 2), []);
    const state = await h.state(handle);
    assert.equal(state.stage, 'SAL');
    assert.equal(state.nurtureReason, null);
    assert.ok(!(await h.events(leadId)).some((event) => event.type === 'returned-to-nurture'));
  });

  test('a cadence of unanswered attempts returns the lead to nurture as unresponsive at the window end', async () => {
    const { leadId, handle, owner, acceptedAt } = await acceptedLead();
    const channels = ['phone', 'email', 'linkedin', 'phone', 'email'] as const;
    for (const [index, channel] of channels.entries()) {
      if (index > 0) await h.skipTime(DAY);
      await logAttempt(handle, owner, channel, 'no-answer');
    }
    const windowEnds = plus(acceptedAt, 5 * DAY);
    assert.equal((await h.state(handle)).cadence!.windowEnds.at, windowEnds, 'the window is 5 days on the 24/7 calendar');

    await h.skipTime(Date.parse(windowEnds) - (await h.now()) - 5 * MINUTE);
    await settle(handle);
    assert.equal((await h.state(handle)).stage, 'SAL', 'still SAL just before the window ends');

    await h.skipTime(10 * MINUTE);
    const nurtured = await h.waitForEvent(leadId, 'returned-to-nurture');
    assert.equal(nurtured.payload.reason, 'unresponsive');
    assert.equal(nurtured.payload.attemptsMade, 5);
    assertInstantNear(nurtured.at, windowEnds, 'returned at the window end');
    const state = await eventually(() => h.state(handle), (s) => s.stage === 'NURTURE', 'the nurture run');
    assert.equal(state.nurtureReason, 'unresponsive');
  });

  test('with no attempts logged, each attempt due time sends one reminder to the owner', async () => {
    // Acceptance meets speed-to-lead here, so no escalation takes the lead away during the five days.
    const policy = policyWith((base) => ({ speedToLead: { ...base.speedToLead, metBy: 'acceptance' } }));
    const { workflowId, handle, owner, acceptedAt } = await acceptedLead({ policy });

    const reminders = () => h.notificationsOf(workflowId, 'cadence.attempt-due');
    for (let attempt = 2; attempt <= 5; attempt += 1) {
      const dueAt = plus(acceptedAt, (attempt - 1) * DAY);
      await h.skipTime(Date.parse(dueAt) - (await h.now()) - 10 * MINUTE);
      await settle(handle);
      assert.ok(!reminders().some((n) => n.details.attempt === attempt), `no reminder for attempt ${attempt} before it is due`);
      await h.skipTime(20 * MINUTE);
      const reminder = await h.waitForNotification(workflowId, 'cadence.attempt-due', (n) => n.details.attempt === attempt);
      assert.deepEqual(reminder.recipients, [owner]);
      assert.equal(reminder.details.dueAt, dueAt);
      assertInstantNear(reminder.at, dueAt, `reminder for attempt ${attempt}`);
    }
    await settle(handle);
    // Attempt 1 is due at acceptance itself. Acceptance met speed-to-lead here, so nothing else asks the owner for it.
    const first = reminders().find((n) => n.details.attempt === 1);
    assert.ok(first, `attempt 1 (due at acceptance, ${acceptedAt}) got no reminder; reminders: ${JSON.stringify(reminders().map((n) => n.details.attempt))}`);
    assert.deepEqual(first.recipients, [owner]);
    assert.equal(first.details.dueAt, acceptedAt);
    assert.deepEqual(
      reminders().map((n) => n.details.attempt),
      [1, 2, 3, 4, 5],
      'one reminder per attempt, in order',
    );
  });

  test('a bounced e-mail flags the record once; a bounce on another channel does not', async () => {
    const { leadId, handle, owner } = await acceptedLead();
    const phoneBounce = await logAttempt(handle, owner, 'phone', 'bounced');
    assert.deepEqual(phoneBounce.flags, []);
    const emailBounce = await logAttempt(handle, owner, 'email', 'bounced');
    assert.deepEqual(emailBounce.flags, ['email-bounced']);
    const again = await logAttempt(handle, owner, 'email', 'bounced');
    assert.deepEqual(again.flags, ['email-bounced']);

    const events = await eventually(() => h.events(leadId), (rows) => rows.filter((e) => e.type === 'contact-attempted').length === 3, 'three attempts');
    const flagged = events.filter((event) => event.type === 'record-flagged');
    assert.equal(flagged.length, 1);
    assert.equal(flagged[0]!.payload.flag, 'email-bounced');
    assert.equal(flagged[0]!.actor, owner);
  });

  describe('every rejection reason returns the lead to nurture with that reason', () => {
    for (const reason of rejectionReasons) {
      test(reason, async () => {
        const { leadId, handle, owner } = await acceptedLead();
        const rejected = await handle.executeUpdate(rejectLeadUpdate, { args: [{ actor: owner, reason, notes: `because ${reason}` }] });
        assert.equal(rejected.stage, 'NURTURE');
        assert.equal(rejected.nurtureReason, reason);
        const event = await h.waitForEvent(leadId, 'returned-to-nurture');
        assert.deepEqual([event.payload.from, event.payload.to, event.payload.reason, event.actor], ['SAL', 'NURTURE', reason, owner]);
        const state = await h.state(handle); // the run the return to nurture continued into
        assert.equal(state.stage, 'NURTURE');
        assert.equal(state.nurtureReason, reason);
        assert.equal(state.cadence, null);
        assert.equal(state.speedToLead, null);
      });
    }
  });

  describe('engagement', () => {
    test('a LEAD whose engagement crosses the MQL threshold becomes MQL and is routed', async () => {
      const { leadId, handle } = await h.startLead({ tier: 2, score: scores.cold });
      assert.equal((await h.state(handle)).stage, 'LEAD');

      const webinar = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'webinar' }] });
      assert.equal(webinar.stage, 'LEAD', 'still below the threshold');
      assert.equal(webinar.score.total, 25);

      const demo = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'demo-request' }] });
      assert.equal(demo.stage, 'MQL');
      assert.equal(demo.score.total, 55);
      assert.ok([REP_A, REP_B].includes(demo.ownerId!), `routed to a rep, got ${demo.ownerId}`);
      assert.equal(demo.speedToLead!.due.at, plus(demo.speedToLead!.startedAt, 4 * HOUR), 'the Tier 2 clock starts on becoming MQL');

      const changed = await h.waitForEvent(leadId, 'stage-changed');
      assert.deepEqual([changed.payload.from, changed.payload.to], ['LEAD', 'MQL']);
      assert.match(String(changed.payload.reason), /MQL threshold.*demo-request/);
      const routed = await h.waitForEvent(leadId, 'routed');
      assert.ok(routed.seq > changed.seq);
      assert.equal(routed.payload.repId, demo.ownerId);
      await h.waitForNotification(handle.workflowId, 'lead.assigned', (n) => n.recipients[0] === demo.ownerId);
    });

    test('a lead nurtured for a cold score re-engages to MQL and is routed afresh', async () => {
      const { leadId, handle, state } = await h.startRoutedLead({ tier: 2 });
      const cooled = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', negative: 20 }] });
      assert.equal(cooled.stage, 'NURTURE');
      assert.equal(cooled.nurtureReason, 'cold-score');

      await h.skipTime(HOUR);
      const back = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'demo-request' }] });
      assert.equal(back.stage, 'MQL');
      assert.equal(back.nurtureReason, null);
      assert.equal(back.cycle, 1);
      assert.ok(back.ownerId);
      assert.ok(Date.parse(back.speedToLead!.startedAt) > Date.parse(state.speedToLead!.startedAt) + 59 * MINUTE, 'a fresh speed-to-lead clock');
      const events = await eventually(() => h.events(leadId), (rows) => rows.filter((e) => e.type === 'routed').length === 2, 'a second routing');
      const [firstRouting, secondRouting] = events.filter((e) => e.type === 'routed');
      assert.ok(secondRouting!.seq > firstRouting!.seq);
      const backToMql = events.find((e) => e.type === 'stage-changed' && e.payload.to === 'MQL');
      assert.equal(backToMql?.payload.from, 'NURTURE');
    });

    test('a rejected lead that re-engages comes back to MQL and is routed afresh', async () => {
      const { leadId, handle, owner } = await acceptedLead();
      const rejected = await handle.executeUpdate(rejectLeadUpdate, { args: [{ actor: owner, reason: 'too-early' }] });
      assert.equal(rejected.stage, 'NURTURE');

      // Months later the prospect asks for a demo.
      await h.skipTime(30 * DAY);
      const back = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'demo-request' }] });
      assert.equal(back.stage, 'MQL', `a nurtured lead that asks for a demo is an MQL again (score ${back.score.total}, band ${back.score.band})`);
      assert.equal(back.nurtureReason, null);
      assert.ok(back.ownerId);
      const events = await eventually(() => h.events(leadId), (rows) => rows.filter((e) => e.type === 'routed').length === 2, 'a second routing');
      const backToMql = events.find((e) => e.type === 'stage-changed' && e.payload.to === 'MQL');
      assert.equal(backToMql?.payload.from, 'NURTURE');
    });
  });

  describe('close', () => {
    async function sqlLead() {
      const lead = await acceptedLead();
      await logAttempt(lead.handle, lead.owner, 'phone', 'connected');
      assert.equal((await qualify(lead.handle, lead.owner)).stage, 'SQL');
      return lead;
    }

    test('won from SQL completes the workflow with stage WON', async () => {
      const { leadId, handle, owner } = await sqlLead();
      const closing = await handle.executeUpdate(closeLeadUpdate, { args: [{ actor: owner, outcome: 'won' }] });
      assert.equal(closing.stage, 'WON');
      assert.deepEqual(await handle.result(), { leadId, stage: 'WON', dealId: null });
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      const closed = await h.waitForEvent(leadId, 'closed');
      assert.deepEqual([closed.payload.from, closed.payload.to, closed.payload.outcome, closed.actor], ['SQL', 'WON', 'won', owner]);
      // The response deadline's timer, kept while nothing was pending, still stood before the weekly hygiene check:
      // the lead closed without starting a timer of its own for the check, a billed action saved (patch 'lean-clocks').
      const timers = (await handle.fetchHistory()).events!.filter((event) => event.timerStartedEventAttributes);
      assert.equal(timers.length, 1, 'one timer for the whole lead');
    });

    test('lost from SQL completes the workflow with stage LOST', async () => {
      const { leadId, handle, owner } = await sqlLead();
      await handle.executeUpdate(closeLeadUpdate, { args: [{ actor: owner, outcome: 'lost', reason: 'chose a competitor' }] });
      assert.deepEqual(await handle.result(), { leadId, stage: 'LOST', dealId: null });
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      const closed = await h.waitForEvent(leadId, 'closed');
      assert.deepEqual([closed.payload.to, closed.payload.reason], ['LOST', 'chose a competitor']);
    });

    test('closing a SAL lead is refused and changes nothing', async () => {
      const { leadId, handle, owner } = await acceptedLead();
      await assertRefused(handle.executeUpdate(closeLeadUpdate, { args: [{ actor: owner, outcome: 'won' }] }), /cannot close a lead in stage SAL/);
      const state = await h.state(handle);
      assert.equal(state.stage, 'SAL');
      assert.equal((await handle.describe()).status.name, 'RUNNING');
      assert.ok(!(await h.events(leadId)).some((event) => event.type === 'closed'));
    });
  });
});

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { queueMembers, queues, reps } from '../../db/schema.js';
import type { Policy } from '../../domain/policy.js';
import { reassignLeadUpdate, recordEngagementUpdate } from '../../workflows/lead-definitions.js';
import {
  accept,
  assertRefused,
  DAY,
  eventually,
  HOUR,
  INBOUND_QUEUE,
  MINUTE,
  plus,
  policyWith,
  REP_A,
  REP_B,
  startLeadHarness,
  type LeadHarness,
} from '../support/lead-harness.js';

const DACH_QUEUE = 'dach';
const SPECIALISTS_QUEUE = 'sso-specialists';
const REP_DACH = 'rep-dach';
const REP_SSO = 'rep-sso';

// The DACH team works 00:00-12:00 UTC every day: a calendar whose business time differs from the inbound team's
// around-the-clock one at any hour the test happens to run.
const halfDays = [{ start: '00:00', end: '12:00' }];
const dachCalendar = {
  id: 'dach-mornings',
  timeZone: 'UTC',
  workingHours: { mon: halfDays, tue: halfDays, wed: halfDays, thu: halfDays, fri: halfDays, sat: halfDays, sun: halfDays },
  closures: [],
  holidays: [],
};

/** An oracle independent of business-time.ts: walks minute by minute, counting the DACH team's open minutes (exact to a minute). */
function afterDachBusinessMinutes(from: string | number | Date, minutes: number): string {
  let at = new Date(from).getTime();
  let left = minutes;
  const open = (ms: number) => new Date(ms).getUTCHours() < 12;
  while (left > 0) {
    if (open(at)) left -= 1;
    at += MINUTE;
  }
  return new Date(at).toISOString();
}

function assertWithinMinute(actual: string, expected: string, what: string): void {
  assert.ok(Math.abs(Date.parse(actual) - Date.parse(expected)) <= MINUTE, `${what}: ${actual}, expected ${expected}`);
}

function territoryPolicy(): Policy {
  return policyWith((base) => ({
    calendars: { ...base.calendars, [dachCalendar.id]: dachCalendar },
    routing: {
      rules: [
        { queueId: DACH_QUEUE, regions: ['dach'] },
        { queueId: SPECIALISTS_QUEUE, products: ['helpdesk'], skills: ['sso'] },
      ],
      fallbackQueueId: INBOUND_QUEUE,
    },
    queues: { [DACH_QUEUE]: { calendarId: dachCalendar.id, speedToLead: { tier2: { amount: 1, unit: 'hours', clock: 'business' } } } },
  }));
}

describe('segments, territory and specialist routing, queue SLAs and team calendars on the time-skipping server', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('segments-routing');
    const { db } = h.database;
    await db.insert(reps).values([
      { repId: REP_DACH, name: 'Rep DACH', seniority: 'senior', managerId: 'mgr-dach' },
      { repId: REP_SSO, name: 'Rep SSO', seniority: 'senior', managerId: 'mgr-sso' },
    ]);
    await db.insert(queues).values([
      { queueId: DACH_QUEUE, name: 'DACH', strategy: 'round-robin', managerId: 'mgr-dach' },
      { queueId: SPECIALISTS_QUEUE, name: 'SSO specialists', strategy: 'round-robin', managerId: 'mgr-sso' },
    ]);
    await db.insert(queueMembers).values([
      { queueId: DACH_QUEUE, repId: REP_DACH, position: 0 },
      { queueId: SPECIALISTS_QUEUE, repId: REP_SSO, position: 0 },
    ]);
  });
  afterEach(async () => {
    await h.cleanup();
  });
  after(async () => {
    await h?.stop();
  });

  describe('segment thresholds, deadlines and cadence (default policy)', () => {
    test('SMB needs 65 to be an MQL: 64 stays a LEAD, and engagement to 65 hands it to sales; mid-market is an MQL at 40', async () => {
      const smb = await h.startLead({ profile: { segment: 'SMB' }, score: { fit: 40, behavior: 14, intent: 10, negative: 0 } });
      const below = await h.state(smb.handle);
      assert.deepEqual([below.score.total, below.score.band, below.stage], [64, 'cold', 'LEAD']);
      const at65 = await smb.handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', behavior: 1 }] });
      assert.deepEqual([at65.score.total, at65.stage], [65, 'MQL']);

      const midMarket = await h.startLead({ profile: { segment: 'mid-market' }, score: { fit: 30, behavior: 10, intent: 0, negative: 0 } });
      const state = await h.state(midMarket.handle);
      assert.deepEqual([state.score.total, state.stage], [40, 'MQL']);
    });

    test('an enterprise Tier 2 lead gets the segment\'s 2 hours, and after acceptance its 8-attempt, 10-day cadence', async () => {
      const inboundOnly = policyWith(() => ({ routing: { rules: [], fallbackQueueId: INBOUND_QUEUE } }));
      const { handle, state } = await h.startRoutedLead({ tier: 2, policy: inboundOnly, profile: { segment: 'enterprise' } });
      assert.equal(state.queueId, INBOUND_QUEUE, 'routed to a queue without rules of its own: the segment alone sets the deadline');
      assert.equal(state.speedToLead!.due.at, plus(state.speedToLead!.startedAt, 2 * HOUR));
      const accepted = await accept(handle, state.ownerId!);
      assert.equal(accepted.cadence!.attemptsDue.length, 8);
      assert.equal(accepted.cadence!.windowEnds.at, plus(accepted.cadence!.startedAt, 10 * DAY));

      const other = await h.startRoutedLead({ tier: 2 });
      assert.equal(other.state.speedToLead!.due.at, plus(other.state.speedToLead!.startedAt, 4 * HOUR), 'no segment: the policy\'s 4 hours');
    });
  });

  describe('routing rules with their fallback', () => {
    test('a DACH lead goes to the DACH queue, with that queue\'s 1-hour SLA counted on its team calendar', async () => {
      const { leadId, state } = await h.startRoutedLead({ tier: 2, policy: territoryPolicy(), profile: { region: 'DACH' } });
      assert.deepEqual([state.queueId, state.ownerId, state.calendarId], [DACH_QUEUE, REP_DACH, dachCalendar.id]);
      const clock = state.speedToLead!;
      assert.deepEqual(clock.allowance, { amount: 1, unit: 'hours', clock: 'business' });
      assertWithinMinute(clock.due.at, afterDachBusinessMinutes(clock.startedAt, 60), 'the DACH deadline');
      const routed = await h.waitForEvent(leadId, 'routed');
      assert.deepEqual([routed.payload.queueId, routed.payload.dueAt, routed.payload.calendarId], [DACH_QUEUE, clock.due.at, dachCalendar.id]);
    });

    test('a lead needing SSO on the helpdesk product goes to the specialists; one that lacks either falls back to inbound', async () => {
      const specialist = await h.startRoutedLead({ policy: territoryPolicy(), profile: { product: 'Helpdesk', skills: ['SSO', 'api'] } });
      assert.deepEqual([specialist.state.queueId, specialist.state.ownerId], [SPECIALISTS_QUEUE, REP_SSO]);
      assert.equal(specialist.state.calendarId, 'always-open', 'a queue without a calendar keeps the policy default');

      for (const profile of [{ product: 'helpdesk' }, { skills: ['sso'] }, { region: 'nordics' }, {}]) {
        const fallback = await h.startRoutedLead({ policy: territoryPolicy(), profile });
        assert.equal(fallback.state.queueId, INBOUND_QUEUE, `fallback for ${JSON.stringify(profile)}`);
        assert.ok([REP_A, REP_B].includes(fallback.state.ownerId!));
        assert.equal(fallback.state.speedToLead!.due.at, plus(fallback.state.speedToLead!.startedAt, 4 * HOUR));
      }
    });
  });

  describe('a reassignment across regions', () => {
    test('an MQL moved to the DACH team gets that team\'s SLA, counted from now on its calendar', async () => {
      const { leadId, handle, state } = await h.startRoutedLead({ tier: 2, policy: territoryPolicy() });
      assert.equal(state.queueId, INBOUND_QUEUE);
      await h.skipTime(10 * MINUTE);
      const moved = await handle.executeUpdate(reassignLeadUpdate, { args: [{ actor: 'ops-olga', role: 'ops', toQueueId: DACH_QUEUE, reason: 'German-speaking prospect' }] });
      assert.deepEqual([moved.queueId, moved.ownerId, moved.calendarId], [DACH_QUEUE, REP_DACH, dachCalendar.id]);
      const reassigned = await h.waitForEvent(leadId, 'reassigned');
      assertWithinMinute(moved.speedToLead!.due.at, afterDachBusinessMinutes(reassigned.at, 60), 'the fresh DACH deadline');
      assert.equal(reassigned.payload.calendarId, dachCalendar.id);
      assert.equal(reassigned.payload.freshDueAt, moved.speedToLead!.due.at);
    });

    test('a reassignment to a queue that does not exist is refused and changes nothing', async () => {
      const { handle, state } = await h.startRoutedLead({ tier: 2, policy: territoryPolicy() });
      await assertRefused(
        handle.executeUpdate(reassignLeadUpdate, { args: [{ actor: 'ops-olga', role: 'ops', toQueueId: 'nowhere', reason: 'typo' }] }),
        /queue nowhere does not exist/,
      );
      const after = await h.state(handle);
      assert.deepEqual([after.queueId, after.ownerId, after.calendarId, after.speedToLead!.due.at], [state.queueId, state.ownerId, state.calendarId, state.speedToLead!.due.at]);
    });

    test('a SAL lead moved to the DACH team keeps the business time each pending attempt had left, now on the DACH calendar', async () => {
      const { handle, state } = await h.startRoutedLead({ tier: 2, policy: territoryPolicy() });
      const accepted = await accept(handle, state.ownerId!);
      await h.skipTime(3 * HOUR);
      const before = (await h.state(handle)).cadence!;
      const moved = await handle.executeUpdate(reassignLeadUpdate, { args: [{ actor: 'ops-olga', role: 'ops', toQueueId: DACH_QUEUE, reason: 'territory' }] });
      const now = await h.now();
      const after = moved.cadence!;
      assert.equal(after.startedAt, accepted.cadence!.startedAt);
      before.attemptsDue.forEach((due, index) => {
        if (Date.parse(due.at) <= now) {
          assert.equal(after.attemptsDue[index]!.at, due.at, `attempt ${index + 1} was already due and stays`);
          return;
        }
        // Around the clock, the business minutes left are the wall minutes left.
        const left = Math.round((Date.parse(due.at) - now) / MINUTE);
        const expected = afterDachBusinessMinutes(now, left);
        assertWithinMinute(after.attemptsDue[index]!.at, expected, `attempt ${index + 1}`);
      });
      const windowLeft = Math.round((Date.parse(before.windowEnds.at) - now) / MINUTE);
      assertWithinMinute(after.windowEnds.at, afterDachBusinessMinutes(now, windowLeft), 'the cadence window');
      assert.ok(Date.parse(after.windowEnds.at) > Date.parse(before.windowEnds.at) + 2 * DAY, 'half-day business time stretches the 5-day window');
      const deadlines = await eventually(() => h.state(handle), (s) => s.deadlines.some((d) => d.kind === 'cadence-window'), 'deadlines');
      assert.equal(deadlines.deadlines.find((d) => d.kind === 'cadence-window')!.dueAt, after.windowEnds.at);
    });
  });
});

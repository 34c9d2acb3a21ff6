import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { recordEngagementUpdate, rejectLeadUpdate } from '../../workflows/lead-definitions.js';
import { DAY, eventually, policyWith, REP_A, REP_B, startLeadHarness, type LeadHarness } from '../support/lead-harness.js';

// 35 + 10 + 10 = 55: in the MQL band (40-69), so a rejection leaves the score above the threshold.
const score55 = { fit: 35, behavior: 10, intent: 10, negative: 0 };

describe('a nurtured lead returning to MQL (policy scoring.nurtureReturn) on the time-skipping server', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('nurture-return');
  });
  afterEach(async () => {
    await h.cleanup();
  });
  after(async () => {
    await h?.stop();
  });

  test('positive-engagement (default): a lead rejected at 55 comes back on one e-mail click (+5), to the rep who rejected it', async () => {
    const { leadId, handle, state } = await h.startRoutedLead({ score: score55 });
    const rep = state.ownerId!;
    const rejected = await handle.executeUpdate(rejectLeadUpdate, { args: [{ actor: rep, reason: 'too-early' }] });
    assert.equal(rejected.stage, 'NURTURE');
    assert.equal(rejected.ownerId, rep, 'the rep stays the owner of a lead returned to marketing');
    assert.equal(rejected.stageOwner, 'marketing', 'marketing owns the nurture');
    const returned = await h.waitForEvent(leadId, 'returned-to-nurture');
    assert.deepEqual([returned.payload.ownerId, returned.payload.stageOwner], [rep, 'marketing']);

    // While the rep is away from this lead, the other rep takes the next turn in the rotation.
    await h.skipTime(7 * DAY);
    const back = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'email-click' }] });
    assert.equal(back.score.total, 60);
    assert.equal(back.stage, 'MQL');
    assert.equal(back.stageOwner, 'marketing');
    assert.equal(back.ownerId, rep, 'the lead goes back to the rep it had');
    const routings = await eventually(() => h.events(leadId), (rows) => rows.filter((e) => e.type === 'routed').length === 2, 'the second routing');
    assert.equal(routings.filter((e) => e.type === 'routed')[1]!.payload.reason, 'returning-owner');
  });

  test('the returning rep out of the rotation (inactive) leaves the lead to the queue', async () => {
    const { handle, state } = await h.startRoutedLead({ score: score55 });
    const rep = state.ownerId!;
    await handle.executeUpdate(rejectLeadUpdate, { args: [{ actor: rep, reason: 'too-early' }] });
    const { reps } = await import('../../db/schema.js');
    const { eq } = await import('drizzle-orm');
    await h.database.db.update(reps).set({ active: false }).where(eq(reps.repId, rep));
    try {
      const back = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'email-click' }] });
      assert.equal(back.stage, 'MQL');
      assert.equal(back.ownerId, rep === REP_A ? REP_B : REP_A);
    } finally {
      await h.database.db.update(reps).set({ active: true }).where(eq(reps.repId, rep));
    }
  });

  test('score-crosses-threshold: the same +5 leaves the lead in nurture; only a score that fell below and comes back over returns it', async () => {
    const policy = policyWith((base) => ({ scoring: { ...base.scoring, nurtureReturn: 'score-crosses-threshold' } }));
    const { handle, state } = await h.startRoutedLead({ score: score55, policy });
    await handle.executeUpdate(rejectLeadUpdate, { args: [{ actor: state.ownerId!, reason: 'too-early' }] });

    const clicked = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'email-click' }] });
    assert.deepEqual([clicked.score.total, clicked.stage], [60, 'NURTURE']);

    const cooled = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', negative: 25 }] });
    assert.deepEqual([cooled.score.total, cooled.score.band, cooled.stage], [35, 'cold', 'NURTURE']);
    const back = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'email-click' }] });
    assert.deepEqual([back.score.total, back.stage], [40, 'MQL'], 'exactly at the threshold counts as over it');
  });
});

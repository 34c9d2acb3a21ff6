import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { rejectionReasons } from '../../domain/lead-lifecycle.js';
import { reassignLeadUpdate, recordEngagementUpdate, rejectLeadUpdate } from '../../workflows/lead-definitions.js';
import { accept, eventually, startLeadHarness, type LeadHandle, type LeadHarness } from '../support/lead-harness.js';

const CYCLES = 50;
/** Temporal warns at 10,240 events; a lead that comes back from nurture must stay far below by continuing as new. */
const HISTORY_LIMIT = 4_096;

describe('a lead through many nurture cycles', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('cycles');
  });
  afterEach(async () => {
    await h.cleanup();
  });
  after(async () => {
    await h?.stop();
  });

  test(`${CYCLES} cycles of reject → re-engagement → accept keep every run small and the audit gap-free`, async () => {
    const { leadId, workflowId, handle, state } = await h.startRoutedLead({ tier: 2 });
    let owner = state.ownerId!;
    let runBefore = (await handle.describe()).runId;

    for (let cycle = 1; cycle <= CYCLES; cycle += 1) {
      const accepted = await accept(handle, owner);
      assert.equal(accepted.stage, 'SAL', `cycle ${cycle}: accepted`);
      const reason = rejectionReasons[cycle % rejectionReasons.length]!;
      const rejected = await handle.executeUpdate(rejectLeadUpdate, { args: [{ actor: owner, reason }] });
      assert.deepEqual([rejected.stage, rejected.nurtureReason, rejected.cycle], ['NURTURE', reason, cycle], `cycle ${cycle}: rejected`);
      if (cycle === CYCLES) break;
      // A step sent while the finishing run still waits for a notification it sent would be taken by that run
      // (by design: see lead-workflow's settle); wait for the fresh run so each cycle gets one, as counted below.
      runBefore = (await eventually(() => handle.describe(), (run) => run.runId !== runBefore, `cycle ${cycle}: the fresh run`)).runId;

      // The score drops below the MQL threshold in nurture, then engagement takes it back over.
      const cooled = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', negative: 30 }] });
      assert.deepEqual([cooled.stage, cooled.score.band], ['NURTURE', 'cold'], `cycle ${cycle}: cooled down`);
      const back = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'demo-request' }] });
      assert.equal(back.stage, 'MQL', `cycle ${cycle}: back over the threshold`);
      assert.ok(back.ownerId, `cycle ${cycle}: routed afresh`);
      owner = back.ownerId;
    }

    const final = await h.state(handle);
    assert.equal(final.stage, 'NURTURE');
    assert.equal(final.cycle, CYCLES);

    // Every run, from the first along the continue-as-new chain.
    const runs: Array<{ runId: string; events: number }> = [];
    let runId: string | undefined = handle.firstExecutionRunId;
    while (runId) {
      const history: Awaited<ReturnType<LeadHandle['fetchHistory']>> = await h.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const events = history.events ?? [];
      runs.push({ runId, events: events.length });
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    assert.equal(runs.length, CYCLES + 1, 'each return to nurture starts a fresh run');
    assert.equal(runs.at(-1)!.runId, (await handle.describe()).runId, 'the chain ends at the running run');
    const largest = Math.max(...runs.map((run) => run.events));
    assert.ok(largest < HISTORY_LIMIT, `the largest run has ${largest} events`);

    // The audit in Postgres: one timeline across all runs, numbered 1..n without a gap.
    const audit = await eventually(
      () => h.events(leadId),
      (rows) => rows.length >= final.lastEventSeq,
      `all ${final.lastEventSeq} audit events`,
    );
    assert.deepEqual(
      audit.map((event) => event.seq),
      Array.from({ length: final.lastEventSeq }, (_, index) => index + 1),
      'seq strictly increases by one across every run',
    );
    assert.ok(audit.every((event) => event.workflowId === workflowId));
    assert.equal(audit.filter((event) => event.type === 'returned-to-nurture').length, CYCLES);
    assert.equal(audit.filter((event) => event.type === 'routed').length, CYCLES);
    for (let index = 1; index < audit.length; index += 1) {
      assert.ok(audit[index]!.at >= audit[index - 1]!.at, `event ${audit[index]!.seq} is not older than the one before`);
    }
  });

  // Keep this test last in the file: when it fails, a run closes with an activity in flight, and the test server
  // then holds a time-skipping lock it never releases (sdk-java#1138), so later env.sleep() calls would crawl.
  test('a step that arrives while a returning-to-nurture run is still finishing keeps its notification', async () => {
    const { leadId, workflowId, handle, state } = await h.startRoutedLead({ tier: 2 });
    const firstOwner = state.ownerId!;

    // A slow webhook keeps the reassignment's notification in flight while the lead cools down to nurture: the run
    // that returns it to nurture waits for that notification before continuing as new, and the lead re-engages in
    // that window. The re-engagement routes the lead, and its first 'lead.assigned' delivery fails transiently.
    h.setWebhookDelay(1_500);
    try {
      const reassigned = await handle.executeUpdate(reassignLeadUpdate, { args: [{ actor: 'mgr-m', reason: 'rebalancing' }] });
      assert.notEqual(reassigned.ownerId, firstOwner);
      const cooled = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', negative: 20 }] });
      assert.deepEqual([cooled.stage, cooled.nurtureReason], ['NURTURE', 'cold-score']);
      h.refuseNext('lead.assigned', 1);
      const back = await handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal: 'demo-request' }] });
      assert.equal(back.stage, 'MQL');
      assert.ok(back.ownerId);

      // The notifier retries the refused delivery (2 s later): the rep still hears about the lead.
      const assigned = await eventually(
        () => h.notificationsOf(workflowId, 'lead.assigned'),
        (list) => list.length === 2,
        'the second lead.assigned notification (retried after a 503)',
        15_000,
      );
      assert.deepEqual(assigned[1]!.recipients, [back.ownerId]);
    } finally {
      h.setWebhookDelay(0);
      h.refuseNext('lead.assigned', 0);
    }

    const final = await h.state(handle);
    assert.equal(final.stage, 'MQL');
    assert.equal(final.cycle, 1);
    const audit = await eventually(() => h.events(leadId), (rows) => rows.length >= final.lastEventSeq, `all ${final.lastEventSeq} audit events`);
    assert.deepEqual(
      audit.map((event) => event.seq),
      Array.from({ length: final.lastEventSeq }, (_, index) => index + 1),
    );
  });
});

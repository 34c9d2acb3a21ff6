import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { createPolicyStore } from '../../db/policy-store.js';
import { erasures, leads, workflowArchives } from '../../db/schema.js';
import { RETENTION_SCHEDULE_ID, ensureRetentionSchedule } from '../../privacy/retention-schedule.js';
import { leadWorkflowId } from '../../temporal.config.js';
import { closeLeadUpdate, qualifyLeadUpdate } from '../../workflows/lead-definitions.js';
import { retentionSweepWorkflow } from '../../workflows/retention-workflow.js';
import { accept, DAY, eventually, startLeadHarness, type LeadHandle, type LeadHarness } from '../support/lead-harness.js';
import { alwaysOpenPolicy, defaultPolicyDocument } from '../support/policies.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

const retentionPolicy = (amount: number, unit: 'days' | 'seconds') => ({
  ...defaultPolicyDocument(),
  version: uniqueId('retention'),
  privacy: { closedLeadRetention: { amount, unit, clock: 'wall' as const } },
});

async function closeAsLost(handle: LeadHandle, owner: string): Promise<void> {
  await accept(handle, owner);
  await handle.executeUpdate(qualifyLeadUpdate, { args: [{ actor: owner, need: true, budget: true, timing: true }] });
  await handle.executeUpdate(closeLeadUpdate, { args: [{ actor: owner, outcome: 'lost', reason: 'chose a competitor' }] });
}

/** The policy's retention, enforced by the retention sweep: a closed lead past its period loses its personal data. */
describe('retention sweep on the time-skipping server', () => {
  let harness: LeadHarness;
  before(async () => {
    harness = await startLeadHarness('retention');
    await createPolicyStore(harness.database.db).publish({ document: retentionPolicy(365, 'days'), author: 'test', note: 'retention 365 days' });
  });
  after(async () => {
    await harness?.stop();
  });

  const archived = (leadId: string) =>
    eventually(
      () => harness.database.db.select().from(workflowArchives).where(eq(workflowArchives.workflowId, leadWorkflowId(leadId))),
      (rows) => rows.length === 1,
      `the archive of ${leadId}`,
    );

  test('a lead closed longer ago than the policy keeps data is anonymised; one closed since is kept', async () => {
    const old = await harness.startRoutedLead({ tier: 2 });
    await closeAsLost(old.handle, old.state.ownerId!);
    await archived(old.leadId);

    await harness.skipTime(200 * DAY);
    const recent = await harness.startRoutedLead({ tier: 2 });
    await closeAsLost(recent.handle, recent.state.ownerId!);
    await archived(recent.leadId);

    await harness.skipTime(170 * DAY); // the first closed 370 days ago, the second 170
    const result = await harness.env.client.workflow.execute(retentionSweepWorkflow, { taskQueue: harness.taskQueue, workflowId: uniqueId('retention-sweep'), args: [{}] });
    assert.equal(result.erased, 1);
    assert.ok(result.cutoff && Date.parse(result.cutoff) > Date.now(), 'the cutoff is counted from the sweep’s own (skipped) time, past today');

    const [oldLead] = await harness.database.db.select().from(leads).where(eq(leads.leadId, old.leadId));
    assert.equal(oldLead?.email, '[erased]');
    assert.equal(oldLead?.stage, 'LOST', 'the stage stays for the reports');
    const [erasure] = await harness.database.db.select().from(erasures).where(eq(erasures.subjectId, old.leadId));
    assert.equal(erasure?.erasedBy, 'retention-schedule');
    assert.equal(erasure?.workflow, 'was-closed');
    const [recentLead] = await harness.database.db.select().from(leads).where(eq(leads.leadId, recent.leadId));
    assert.equal(recentLead?.email, `${recent.leadId.toLowerCase()}@example.com`);

    // Run again at the same instant (the test server may skip far ahead while nothing else waits).
    const again = await harness.env.client.workflow.execute(retentionSweepWorkflow, {
      taskQueue: harness.taskQueue,
      workflowId: uniqueId('retention-sweep'),
      args: [{ at: erasure!.erasedAt.toISOString() }],
    });
    assert.equal(again.erased, 0, 'an erased lead is not selected again');
  });
});

/** The same sweep as a Temporal Schedule on a real dev server, as the worker creates it at start. */
describe('retention schedule on a real dev server', () => {
  let service: RunningService;
  before(async () => {
    service = await startService(alwaysOpenPolicy());
    await service.request('POST', '/reps', { role: 'ops', body: { repId: 'rep-anna', name: 'Anna', seniority: 'senior', managerId: 'mgr-ola' } });
    await service.request('POST', '/queues', { role: 'ops', body: { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'mgr-ola', members: ['rep-anna'] } });
  });
  after(async () => {
    await service?.stop();
  });

  test('the daily schedule exists once, and a run erases the closed leads past the current policy’s period', async () => {
    const leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', { body: { leadId, email: `${leadId.toLowerCase()}@osoba.pl`, company: 'Kept Briefly', icpTier: 2, score: { fit: 30, behavior: 10, intent: 5 } } });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const handle = service.temporal.client.workflow.getHandle(leadWorkflowId(leadId)) as LeadHandle;
    const owner = (await eventually(() => service.request('GET', `/leads/${leadId}`, { role: 'ops' }), (r) => Boolean(r.body?.ownerId), 'routing')).body.ownerId as string;
    await closeAsLost(handle, owner);
    await eventually(() => service.database.db.select().from(workflowArchives).where(eq(workflowArchives.subjectId, leadId)), (rows) => rows.length === 1, 'the archive');
    await createPolicyStore(service.database.db).publish({ document: retentionPolicy(1, 'seconds'), author: 'test', note: 'retention 1 s' });
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const taskQueue = service.worker.options.taskQueue;
    assert.equal(await ensureRetentionSchedule(service.temporal.client, taskQueue), 'created');
    assert.equal(await ensureRetentionSchedule(service.temporal.client, taskQueue), 'exists');
    const schedule = service.temporal.client.schedule.getHandle(RETENTION_SCHEDULE_ID);
    const description = await schedule.describe();
    assert.equal(description.spec.calendars?.[0]?.hour?.[0]?.start, 3);
    await schedule.trigger();

    const [erasure] = await eventually(() => service.database.db.select().from(erasures).where(eq(erasures.subjectId, leadId)), (rows) => rows.length === 1, 'the erasure by the schedule');
    assert.equal(erasure?.erasedBy, 'retention-schedule');
    const [lead] = await service.database.db.select().from(leads).where(eq(leads.leadId, leadId));
    assert.equal(lead?.email, '[erased]');
    assert.equal(lead?.company, '[erased]');
    await schedule.delete();
  });
});

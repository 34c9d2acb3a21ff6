import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { startDealWorkflow } from '../../api/deals.js';
import { handoffReport } from '../../db/reports.js';
import { dealMilestones, queueMembers, queues, reps } from '../../db/schema.js';
import type { Dossier } from '../../domain/deal-dossier.js';
import type { Policy } from '../../domain/policy.js';
import {
  closeOutDealUpdate,
  dealStateQuery,
  deliverDossierUpdate,
  openIncidentUpdate,
  recordKickoffUpdate,
  recordQbrUpdate,
  resolveIncidentUpdate,
  type DealView,
} from '../../workflows/deal-definitions.js';
import type { dealWorkflow } from '../../workflows/deal-workflow.js';
import { assertInstantNear, assertRefused, DAY, eventually, HOUR, MINUTE, plus, REP_A, startLeadHarness, type LeadHarness } from '../support/lead-harness.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { uniqueId } from '../support/temporal.js';

/** Incidents after the win (seed 000: critical within 24 h, significant within 72 h) on the time-skipping server. */

const CS_QUEUE = 'customer-success';
const CS_MANAGER = 'cs-mgr';
const CS_OWNER = 'cs-1';
type DealHandle = WorkflowHandle<typeof dealWorkflow>;
type MilestoneRow = typeof dealMilestones.$inferSelect;

const dossier: Dossier = {
  businessGoals: ['Cut first-response time'],
  scope: 'Helpdesk for 3 teams',
  kpis: [{ name: 'FRT', metric: 'median first-response time', target: 2, unit: 'hours' }],
  stakeholders: [
    { name: 'Ewa', role: 'economic-buyer' },
    { name: 'Jan', role: 'champion' },
  ],
  risks: [{ description: 'SSO tenant owned by the parent company', severity: 'high' }],
};

describe('deal incidents on the time-skipping server', () => {
  let h: LeadHarness;
  const started: DealHandle[] = [];

  before(async () => {
    h = await startLeadHarness('deal-incidents');
    const { db } = h.database;
    await db.insert(reps).values({ repId: CS_OWNER, name: CS_OWNER, seniority: 'senior', managerId: CS_MANAGER });
    await db.insert(queues).values({ queueId: CS_QUEUE, name: 'Customer success', strategy: 'round-robin', managerId: CS_MANAGER });
    await db.insert(queueMembers).values({ queueId: CS_QUEUE, repId: CS_OWNER, position: 0 });
  });
  afterEach(async () => {
    for (const handle of started.splice(0)) {
      const description = await handle.describe().catch(() => null);
      if (description?.status.name !== 'RUNNING') continue;
      const open = (await state(handle)).incidents?.filter((incident) => incident.resolvedAt === null) ?? [];
      for (const incident of open) await handle.executeUpdate(resolveIncidentUpdate, { args: [{ actor: 'test', incidentId: incident.incidentId }] }).catch(() => undefined);
      await handle.executeUpdate(closeOutDealUpdate, { args: [{ actor: 'test', reason: 'test finished' }] }).catch(() => undefined);
      await handle.result().catch(() => undefined);
    }
  });
  after(async () => {
    await h?.stop();
  });

  const state = (handle: DealHandle): Promise<DealView> => handle.query(dealStateQuery);

  async function startDeal(policy: Policy = alwaysOpenPolicy()) {
    const dealId = uniqueId('D');
    const now = new Date(await h.now()).toISOString();
    const deal = { dealId, accountName: `Account ${dealId}`, amount: 50000, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId: REP_A, csOwnerId: CS_OWNER };
    const result = await startDealWorkflow(h.env.client, { deal, policy, actor: 'sales-actor', taskQueue: h.taskQueue });
    const handle: DealHandle = h.env.client.workflow.getHandle(result.workflowId);
    started.push(handle);
    await eventually(() => state(handle), (s) => s.lastEventSeq >= 2, 'intake');
    return { dealId, handle };
  }

  const open = (handle: DealHandle, severity: 'critical' | 'significant' | 'minor', actor = CS_OWNER) =>
    handle.executeUpdate(openIncidentUpdate, { args: [{ actor, role: 'cs', severity, summary: `${severity}: SSO login fails for every user` }] });
  const resolve = (handle: DealHandle, incidentId: string, actor = CS_OWNER) =>
    handle.executeUpdate(resolveIncidentUpdate, { args: [{ actor, role: 'cs', incidentId, resolution: 'certificate rotated' }] });
  const milestoneRow = (dealId: string, milestone: string, accept: (row: MilestoneRow) => boolean, what: string) =>
    eventually(
      async () => (await h.database.db.select().from(dealMilestones).where(and(eq(dealMilestones.dealId, dealId), eq(dealMilestones.milestone, milestone))))[0],
      (row) => row !== undefined && accept(row),
      what,
    ) as Promise<MilestoneRow>;

  test('a critical incident unresolved after 24 h breaches: the CS owner is reminded, then the CS manager alerted; resolved late, it is on record as late', async () => {
    const { dealId, handle } = await startDeal();
    const opened = await open(handle, 'critical');
    const incident = opened.incidents![0]!;
    assert.equal(incident.incidentId, 'INC-1');
    assert.equal(incident.dueAt, plus(incident.openedAt, 24 * HOUR));
    await milestoneRow(dealId, 'INC-1', (row) => row.kind === 'incident-critical' && !row.breached, 'the incident clock in deal_milestones');

    await h.skipTime(24 * HOUR - MINUTE);
    assert.equal((await state(handle)).handoffState, 'on-track', 'a minute before its deadline the incident is not breached');

    await h.skipTime(2 * MINUTE);
    const breached = await milestoneRow(dealId, 'INC-1', (row) => row.breached, 'the breach');
    assertInstantNear(breached.dueAt, incident.dueAt!, 'due time');
    const reminder = await h.waitForNotification(handle.workflowId, 'deal.incident-critical-overdue');
    assert.deepEqual(reminder.recipients, [CS_OWNER]);
    assert.equal((await state(handle)).handoffState, 'breached');

    // The default ladder alerts the manager 4 business hours later (the 24/7 calendar: 4 hours).
    await h.skipTime(4 * HOUR + MINUTE);
    const alert = await h.waitForNotification(handle.workflowId, 'deal.incident-critical-manager-alert');
    assert.deepEqual(alert.recipients, [CS_MANAGER]);

    const resolved = await resolve(handle, 'INC-1');
    assert.equal(resolved.incidents![0]!.resolvedBy, CS_OWNER);
    assert.equal(resolved.handoffState, 'on-track');
    const done = await milestoneRow(dealId, 'INC-1', (row) => row.doneAt !== null, 'the resolution');
    assert.equal(done.breached, true);
    assert.ok(done.businessMinutesLate! >= 4 * 60, `late by ${done.businessMinutesLate} business minutes`);
  });

  test('a significant incident resolved a minute inside its 72 h is on time; a minor one has no clock', async () => {
    const { dealId, handle } = await startDeal();
    const significant = (await open(handle, 'significant')).incidents![0]!;
    assert.equal(significant.dueAt, plus(significant.openedAt, 72 * HOUR));
    const minor = (await open(handle, 'minor')).incidents![1]!;
    assert.deepEqual([minor.incidentId, minor.dueAt], ['INC-2', null]);

    await h.skipTime(72 * HOUR - MINUTE);
    await resolve(handle, 'INC-1');
    const row = await milestoneRow(dealId, 'INC-1', (r) => r.doneAt !== null, 'the resolution');
    assert.deepEqual([row.breached, row.businessMinutesLate], [false, 0]);
    assert.equal(h.notificationsOf(handle.workflowId, 'deal.incident-significant-overdue').length, 0);
    const after = await resolve(handle, 'INC-2');
    assert.ok(after.incidents!.every((incident) => incident.resolvedAt !== null));
    assert.ok(!after.milestones.some((clock) => clock.key === 'INC-2'), 'a minor incident starts no clock');
  });

  test('refused: an unknown or resolved incident, a CS rep who does not own the deal, a policy without incident rules', async () => {
    const { handle } = await startDeal();
    await assertRefused(resolve(handle, 'INC-9'), /has no incident INC-9/);
    await open(handle, 'critical');
    await resolve(handle, 'INC-1');
    await assertRefused(resolve(handle, 'INC-1'), /INC-1 is already resolved/);
    await assert.rejects(open(handle, 'critical', 'cs-other'), (error: Error) => /cs-other may not/.test(String((error.cause as Error | undefined)?.message)));

    const base = alwaysOpenPolicy();
    const withoutIncidents: Policy = { ...base, deal: { ...base.deal!, incidents: undefined } };
    const other = await startDeal(withoutIncidents);
    await assertRefused(open(other.handle, 'critical'), /no incident rules/);
  });

  test('a handoff completed with an incident open keeps running until it is resolved; the handoff report lists the incident', async () => {
    const { dealId, handle } = await startDeal();
    await handle.executeUpdate(deliverDossierUpdate, { args: [{ actor: REP_A, ...dossier }] });
    const heldAt = () => h.now().then((now) => new Date(now).toISOString());
    await handle.executeUpdate(recordKickoffUpdate, { args: [{ actor: CS_OWNER, heldAt: await heldAt(), attendees: ['Jan'] }] });
    await open(handle, 'critical');
    const completed = await handle.executeUpdate(recordQbrUpdate, { args: [{ actor: CS_OWNER, heldAt: await heldAt() }] });
    assert.equal(completed.stage, 'COMPLETED');
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the open incident keeps the deal running');

    await h.skipTime(25 * HOUR);
    await milestoneRow(dealId, 'INC-1', (row) => row.breached, 'the breach after the handoff completed');
    const now = await h.now(); // before result(): awaiting it lets the test server skip time far ahead
    await resolve(handle, 'INC-1');
    const result = await handle.result();
    assert.equal(result.stage, 'COMPLETED');

    const report = await handoffReport(h.database.db, { from: new Date(now - 30 * DAY), to: new Date(now + DAY) });
    const deal = report.deals.find((d) => d.dealId === dealId);
    assert.ok(deal, `deal ${dealId} in the report: ${JSON.stringify(report.deals.map((d) => d.dealId))} (${new Date(now).toISOString()})`);
    const incident = deal.milestones.find((m) => m.milestone === 'INC-1')!;
    assert.deepEqual([incident.kind, incident.owner, incident.status], ['incident-critical', 'cs', 'late']);
    const summary = report.summary.milestones.find((m) => m.kind === 'incident-critical')!;
    assert.ok(summary.late >= 1);
  });
});

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { and, asc, eq } from 'drizzle-orm';
import { recordDealEvents, type DealAuditEvent } from '../../activities/deal-audit.js';
import { startDealWorkflow } from '../../api/deals.js';
import { resolvePolicy } from '../../domain/policy-source.js';
import { dealCsAssignments, dealEvents, dealMilestones, queueMembers, queues, reps } from '../../db/schema.js';
import type { Dossier } from '../../domain/deal-dossier.js';
import type { Policy } from '../../domain/policy.js';
import {
  closeOutDealUpdate,
  dealStateQuery,
  deliverDossierUpdate,
  recordKickoffUpdate,
  recordQbrUpdate,
  type DealIntake,
  type DealView,
} from '../../workflows/deal-definitions.js';
import type { dealWorkflow } from '../../workflows/deal-workflow.js';
import { CsOwnerIdKey, DealStageKey, HandoffStateKey } from '../../workflows/search-attributes.js';
import {
  assertInstantNear,
  assertRefused,
  DAY,
  eventually,
  HOUR,
  MANAGER,
  MINUTE,
  plus,
  REP_A,
  startLeadHarness,
  type LeadHarness,
  type ReceivedNotification,
} from '../support/lead-harness.js';
import { alwaysOpenPolicy, defaultPolicyDocument } from '../support/policies.js';
import { uniqueId } from '../support/temporal.js';

/**
 * Deal handoffs on the time-skipping server with real activities (Postgres, routing, the notifier posting to a
 * local webhook). The default policy's deal rules run on a 24/7 calendar, so "5 business days" is 5 days
 * whatever day the test runs; one test checks the Warsaw calendar itself.
 */

const CS_QUEUE = 'customer-success'; // policies/default.json deal.csQueueId
const CS_MANAGER = 'cs-mgr';
const CS_REPS = ['cs-1', 'cs-2'];

type DealHandle = WorkflowHandle<typeof dealWorkflow>;
type MilestoneRow = typeof dealMilestones.$inferSelect;

const dossier: Dossier = {
  businessGoals: ['Cut first-response time for support tickets'],
  scope: 'Helpdesk for 3 teams; SSO via Azure AD; CRM sync',
  kpis: [{ name: 'FRT', metric: 'median first-response time', target: 2, unit: 'hours' }],
  stakeholders: [
    { name: 'Ewa', role: 'economic-buyer', email: 'ewa@acme.example' },
    { name: 'Jan', role: 'champion' },
    { name: 'Piotr', role: 'it-contact' },
  ],
  risks: [{ description: 'SSO tenant owned by the parent company', severity: 'high' }],
};

describe('deal handoff workflow on the time-skipping server', () => {
  let h: LeadHarness;
  const started: DealHandle[] = [];

  before(async () => {
    h = await startLeadHarness('deals');
    const { db } = h.database;
    await db.insert(reps).values([...CS_REPS, 'cs-3', 'cs-4'].map((repId) => ({ repId, name: repId, seniority: 'senior', managerId: CS_MANAGER })));
    await db.insert(queues).values({ queueId: CS_QUEUE, name: 'Customer success', strategy: 'round-robin', managerId: CS_MANAGER });
    await db.insert(queueMembers).values(CS_REPS.map((repId, position) => ({ queueId: CS_QUEUE, repId, position })));
  });
  afterEach(async () => {
    // Timers of a deal left running would fire in the next test's time skips. The deal is closed out rather
    // than terminated: terminating in the middle of a workflow task can leave the test server's time-skipping lock held.
    // One at a time: the time-skipping client's result() unlocks and relocks time skipping around each call.
    for (const handle of started.splice(0)) {
      const description = await handle.describe().catch(() => null);
      if (description?.status.name !== 'RUNNING') continue;
      await handle.executeUpdate(closeOutDealUpdate, { args: [{ actor: 'test', reason: 'test finished' }] }).catch(() => undefined);
      await handle.result().catch(() => undefined);
    }
  });
  after(async () => {
    await h?.stop();
  });

  async function startDeal(options: { policy?: Policy; deal?: Partial<DealIntake> } = {}) {
    const dealId = uniqueId('D');
    const now = new Date(await h.now()).toISOString();
    const deal: DealIntake = { dealId, accountName: `Account ${dealId}`, amount: 120000, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId: REP_A, ...options.deal };
    const result = await startDealWorkflow(h.env.client, { deal, policy: options.policy ?? alwaysOpenPolicy(), actor: 'sales-actor', taskQueue: h.taskQueue });
    assert.equal(result.started, true);
    const handle: DealHandle = h.env.client.workflow.getHandle(result.workflowId);
    started.push(handle);
    return { dealId, workflowId: result.workflowId, handle, deal };
  }

  const state = (handle: DealHandle): Promise<DealView> => handle.query(dealStateQuery);
  const withCsOwner = (handle: DealHandle) => eventually(() => state(handle), (s) => s.csOwnerId !== null, 'the CS owner');
  const nowIso = async () => new Date(await h.now()).toISOString();

  const deliverDossier = (handle: DealHandle, actor = REP_A) => handle.executeUpdate(deliverDossierUpdate, { args: [{ actor, ...dossier }] });
  const holdKickoff = async (handle: DealHandle, actor = 'cs-1') =>
    handle.executeUpdate(recordKickoffUpdate, { args: [{ actor, heldAt: await nowIso(), attendees: ['Jan', actor] }] });
  const holdQbr = async (handle: DealHandle, actor = 'cs-1') => handle.executeUpdate(recordQbrUpdate, { args: [{ actor, heldAt: await nowIso(), healthScore: 80 }] });

  const milestones = (dealId: string): Promise<MilestoneRow[]> =>
    h.database.db.select().from(dealMilestones).where(eq(dealMilestones.dealId, dealId)).orderBy(asc(dealMilestones.dueAt));
  const milestoneRow = (dealId: string, milestone: string, accept: (row: MilestoneRow) => boolean, what: string) =>
    eventually(
      async () => (await h.database.db.select().from(dealMilestones).where(and(eq(dealMilestones.dealId, dealId), eq(dealMilestones.milestone, milestone))))[0],
      (row) => row !== undefined && accept(row),
      what,
    ) as Promise<MilestoneRow>;
  const events = (dealId: string) => h.database.db.select().from(dealEvents).where(eq(dealEvents.dealId, dealId)).orderBy(asc(dealEvents.seq));
  const typesOf = (list: ReceivedNotification[]) => list.map((n) => n.type);
  const attribute = async (handle: DealHandle, key: typeof DealStageKey) => (await handle.describe()).typedSearchAttributes.get(key);

  test('on time: CS owner from the queue, dossier with role briefs, kickoff, QBR reminder 14 days ahead, QBR completes the deal', async () => {
    const { dealId, workflowId, handle, deal } = await startDeal();
    const assigned = await withCsOwner(handle);
    const csOwner = assigned.csOwnerId!;
    assert.ok(CS_REPS.includes(csOwner), `CS owner ${csOwner} comes from the CS queue`);
    assert.equal(assigned.csOwnerSource, 'queue');
    assert.equal(assigned.stage, 'AWAITING_DOSSIER');
    assert.deepEqual(
      assigned.deadlines.map((deadline) => deadline.label),
      ['Dossier due (48 h after win)', 'Onboarding kickoff due (5 business days after signature)', 'QBR 1 reminder (14 days ahead)', 'QBR 1 due (90 days after signature)'],
    );
    await h.waitForNotification(workflowId, 'deal.dossier-requested', (n) => n.recipients.includes(REP_A));
    await h.waitForNotification(workflowId, 'deal.cs-assigned', (n) => n.recipients.includes(csOwner));

    await h.skipTime(20 * HOUR);
    const afterDossier = await deliverDossier(handle);
    assert.equal(afterDossier.stage, 'AWAITING_KICKOFF');
    const received = await h.waitForNotification(workflowId, 'deal.dossier-received');
    assert.deepEqual(received.recipients, [csOwner]);
    assert.deepEqual(received.details.dossier, dossier, 'CS gets the full dossier');
    const briefs = await eventually(() => h.notificationsOf(workflowId, 'deal.stakeholder-brief'), (list) => list.length === 3, 'three role briefs');
    assert.deepEqual(briefs.map((n) => [n.details.role, n.details.focus, n.recipients]).sort(), [
      ['champion', 'goals and timeline', [csOwner]],
      ['economic-buyer', 'ROI and KPIs', [csOwner]],
      ['it-contact', 'integration and scope', [csOwner]],
    ]);
    const dossierRow = await milestoneRow(dealId, 'dossier', (row) => row.doneAt !== null, 'the dossier milestone done');
    assert.equal(dossierRow.breached, false);
    assert.equal(dossierRow.actor, REP_A);
    assert.equal(dossierRow.businessMinutesLate, 0);
    assert.ok(Math.abs(dossierRow.businessMinutesTaken! - 20 * 60) < 2, `business minutes taken ${dossierRow.businessMinutesTaken}`);

    await h.skipTime(2 * DAY);
    const afterKickoff = await holdKickoff(handle, csOwner);
    assert.equal(afterKickoff.stage, 'ONBOARDING');

    // The reminder goes 14 days before day 90, i.e. on day 76, not earlier.
    const reminderAt = plus(deal.signedAt, 76 * DAY);
    await h.skipTime(Date.parse(reminderAt) - (await h.now()) - HOUR);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(h.notificationsOf(workflowId, 'deal.qbr-due-soon'), [], 'no reminder before day 76');
    await h.skipTime(2 * HOUR);
    const reminder = await h.waitForNotification(workflowId, 'deal.qbr-due-soon');
    assert.deepEqual(reminder.recipients, [csOwner]);
    assertInstantNear(reminder.at, reminderAt, 'the QBR reminder');
    assert.equal(reminder.details.dueAt, plus(deal.signedAt, 90 * DAY));

    await h.skipTime(10 * DAY);
    const afterQbr = await holdQbr(handle, csOwner);
    assert.equal(afterQbr.stage, 'COMPLETED');
    const result = await handle.result();
    assert.equal(result.stage, 'COMPLETED');
    assert.deepEqual(result.milestones.map((m) => [m.milestone, m.breached, m.doneAt !== null]), [
      ['dossier', false, true],
      ['kickoff', false, true],
      ['qbr-1', false, true],
    ]);

    const rows = await eventually(() => milestones(dealId), (list) => list.length === 3 && list.every((row) => row.doneAt !== null), 'all milestones done in Postgres');
    assert.deepEqual(rows.map((row) => [row.milestone, row.breached, row.businessMinutesLate]), [
      ['dossier', false, 0],
      ['kickoff', false, 0],
      ['qbr-1', false, 0],
    ]);
    const types = typesOf(h.notificationsOf(workflowId));
    assert.ok(!types.some((type) => type.endsWith('-overdue') || type.endsWith('-manager-alert')), `no escalation expected: ${types.join(', ')}`);
    assert.equal(await attribute(handle, DealStageKey), 'COMPLETED');
    assert.equal(await attribute(handle, HandoffStateKey), 'on-track');
    assert.equal(await attribute(handle, CsOwnerIdKey), csOwner);
    const eventTypes = (await events(dealId)).map((event) => event.type);
    assert.deepEqual(eventTypes, ['received', 'cs-owner-assigned', 'dossier-delivered', 'kickoff-held', 'milestone-reminder', 'qbr-held', 'completed']);
  });

  test('a missed dossier is recorded as breached, reminds the sales owner, then alerts the sales manager', async () => {
    const { dealId, workflowId, handle, deal } = await startDeal({ deal: { csOwnerId: 'cs-2' } });
    const first = await state(handle);
    assert.equal(first.csOwnerId, 'cs-2', 'a CS owner named at intake is kept');
    assert.equal(first.csOwnerSource, 'intake');

    await h.skipTime(47 * HOUR);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await milestoneRow(dealId, 'dossier', () => true, 'the dossier milestone')).breached, false);

    await h.skipTime(HOUR + MINUTE);
    const breached = await milestoneRow(dealId, 'dossier', (row) => row.breached, 'the dossier breach in deal_milestones');
    assert.equal(breached.doneAt, null);
    assert.equal(breached.dueAt.toISOString(), plus(deal.closedWonAt, 48 * HOUR));
    const reminder = await h.waitForNotification(workflowId, 'deal.dossier-overdue');
    assert.deepEqual(reminder.recipients, [REP_A]);
    assert.equal(await attribute(handle, HandoffStateKey), 'breached');
    assert.deepEqual(h.notificationsOf(workflowId, 'deal.dossier-manager-alert'), [], 'the manager hears only after the next level');

    await h.skipTime(4 * HOUR);
    const alert = await h.waitForNotification(workflowId, 'deal.dossier-manager-alert');
    assert.deepEqual(alert.recipients, [MANAGER], "the sales rep's manager from the reps table");

    const late = await deliverDossier(handle);
    assert.equal(late.handoffState, 'on-track');
    const done = await milestoneRow(dealId, 'dossier', (row) => row.doneAt !== null, 'the late dossier');
    assert.equal(done.breached, true, 'a late dossier stays breached');
    assert.ok(done.businessMinutesLate! >= 4 * 60, `business minutes late ${done.businessMinutesLate}`);
    const escalations = (await events(dealId)).filter((event) => event.type === 'escalated').map((event) => [event.payload.level, event.payload.action]);
    assert.deepEqual(escalations, [
      [1, 'remind-owner'],
      [2, 'alert-manager'],
    ]);
  });

  test('a missed kickoff reminds the CS owner, then alerts the CS queue manager', async () => {
    const { dealId, workflowId, handle } = await startDeal();
    const csOwner = (await withCsOwner(handle)).csOwnerId!;
    await deliverDossier(handle);
    await h.skipTime(5 * DAY + MINUTE);
    const breached = await milestoneRow(dealId, 'kickoff', (row) => row.breached, 'the kickoff breach');
    assert.equal(breached.doneAt, null);
    assert.deepEqual((await h.waitForNotification(workflowId, 'deal.kickoff-overdue')).recipients, [csOwner]);
    await h.skipTime(4 * HOUR);
    assert.deepEqual((await h.waitForNotification(workflowId, 'deal.kickoff-manager-alert')).recipients, [CS_MANAGER]);
    assert.equal((await state(handle)).stage, 'AWAITING_KICKOFF');
    assert.equal(await attribute(handle, HandoffStateKey), 'breached');
  });

  test('a missed QBR is reminded ahead, then breaches and escalates to the CS manager', async () => {
    const { dealId, workflowId, handle } = await startDeal();
    const csOwner = (await withCsOwner(handle)).csOwnerId!;
    await holdKickoff(handle, csOwner); // kickoff before the dossier is allowed
    const view = await deliverDossier(handle);
    assert.equal(view.stage, 'ONBOARDING');
    await h.skipTime(90 * DAY + MINUTE);
    await h.waitForNotification(workflowId, 'deal.qbr-due-soon');
    const breached = await milestoneRow(dealId, 'qbr-1', (row) => row.breached, 'the QBR breach');
    assert.equal(breached.doneAt, null);
    assert.deepEqual((await h.waitForNotification(workflowId, 'deal.qbr-overdue')).recipients, [csOwner]);
    await h.skipTime(4 * HOUR);
    assert.deepEqual((await h.waitForNotification(workflowId, 'deal.qbr-manager-alert')).recipients, [CS_MANAGER]);
    const kickoffRow = await milestoneRow(dealId, 'kickoff', () => true, 'kickoff');
    assert.equal(kickoffRow.breached, false);
  });

  test('steps the stage does not allow are refused before they reach history', async () => {
    const { handle } = await startDeal();
    await withCsOwner(handle);
    await assertRefused(holdQbr(handle), /dossier and the onboarding kickoff come first/);
    await assertRefused(
      handle.executeUpdate(deliverDossierUpdate, { args: [{ actor: REP_A, ...dossier, stakeholders: [{ name: 'Jan', role: 'champion' }] }] }),
      /economic-buyer is required/,
    );
    await assertRefused(
      handle.executeUpdate(recordKickoffUpdate, { args: [{ actor: 'cs-1', heldAt: plus(await nowIso(), DAY), attendees: ['x'] }] }),
      /in the future/,
    );
    await deliverDossier(handle);
    await assertRefused(deliverDossier(handle), /already delivered/);
    const history = await handle.fetchHistory();
    const accepted = history.events!.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length;
    assert.equal(accepted, 1, 'only the valid dossier entered history');
  });

  test('repeating QBRs continue as new after each one, with small histories, until close-out', async () => {
    const policy: Policy = { ...alwaysOpenPolicy(uniqueId('repeat')), deal: { ...alwaysOpenPolicy().deal!, repeatQbr: true, qbrInterval: { amount: 30, unit: 'days', clock: 'wall' } } };
    const { dealId, workflowId, handle } = await startDeal({ policy });
    const csOwner = (await withCsOwner(handle)).csOwnerId!;
    await deliverDossier(handle);
    await holdKickoff(handle, csOwner);
    const firstRunId = (await handle.describe()).runId;

    await h.skipTime(85 * DAY);
    const afterQbr1 = await holdQbr(handle, csOwner);
    assert.equal(afterQbr1.stage, 'AWAITING_QBR');
    const qbr1HeldAt = afterQbr1.qbrs[0]!.heldAt;
    const run2 = await eventually(() => state(handle), (s) => s.run === 2, 'the second run');
    assert.equal(run2.stage, 'AWAITING_QBR');
    assert.deepEqual(run2.qbrs.map((qbr) => qbr.number), [1], 'the carried state keeps the QBR history');
    const qbr2 = run2.milestones.find((m) => m.key === 'qbr-2')!;
    assert.equal(qbr2.due.at, plus(qbr1HeldAt, 30 * DAY), 'the next QBR is due qbrInterval after the last one held');
    assert.equal(run2.deadlines[0]!.label, 'QBR 2 reminder (14 days ahead)');

    await h.skipTime(16 * DAY + MINUTE);
    const reminder = await h.waitForNotification(workflowId, 'deal.qbr-due-soon', (n) => n.details.milestone === 'qbr-2');
    assert.deepEqual(reminder.recipients, [csOwner]);
    const afterQbr2 = await holdQbr(handle, csOwner);
    assert.equal(afterQbr2.qbrs.length, 2);
    const run3 = await eventually(() => state(handle), (s) => s.run === 3, 'the third run');
    assert.ok(run3.milestones.some((m) => m.key === 'qbr-3' && m.doneAt === null));

    const closed = await handle.executeUpdate(closeOutDealUpdate, { args: [{ actor: 'cs-actor', reason: 'customer moved to self-serve reviews' }] });
    assert.equal(closed.stage, 'CLOSED_OUT');
    const result = await handle.result();
    assert.equal(result.stage, 'CLOSED_OUT');

    // Three runs, each with a short history.
    const lengths: number[] = [];
    const endings: string[] = [];
    let runId: string | undefined = firstRunId;
    while (runId) {
      const history: Awaited<ReturnType<DealHandle['fetchHistory']>> = await h.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const last = history.events!.at(-1)!;
      lengths.push(history.events!.length);
      endings.push(`${runId}: ${String(last.eventType)}`);
      runId = last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    // Each run holds one QBR cycle: the first (intake, routing, dossier, kickoff, QBR 1) is the largest, and later
    // runs do not grow with the deal's age.
    assert.equal(lengths.length, 3, `runs: ${lengths.join(', ')}; each run's last event: ${endings.join('; ')}`);
    for (const length of lengths) assert.ok(length < 200, `a run's history stays small: ${lengths.join(', ')}`);
    assert.ok(lengths[1]! < lengths[0]! && lengths[2]! <= lengths[1]!, `later runs start from carried state, not from the whole past: ${lengths.join(', ')}`);

    const seqs = (await eventually(() => events(dealId), (list) => list.at(-1)?.type === 'closed-out', 'the close-out in the audit')).map((event) => event.seq);
    assert.deepEqual(seqs, seqs.map((_, index) => index + 1), 'one audit sequence across the runs, no gaps or repeats');
    const rows = await milestones(dealId);
    assert.deepEqual(rows.map((row) => [row.milestone, row.doneAt !== null]), [
      ['dossier', true],
      ['kickoff', true],
      ['qbr-1', true],
      ['qbr-2', true],
      ['qbr-3', false],
    ]);
  });

  test('the CS owner comes from the CS queue in rotation, skipping a rep who is out of office', async () => {
    const queueId = uniqueId('cs-rotation');
    const { db } = h.database;
    await db.insert(queues).values({ queueId, name: 'CS rotation', strategy: 'round-robin', managerId: CS_MANAGER });
    await db.insert(queueMembers).values([
      { queueId, repId: 'cs-3', position: 0 },
      { queueId, repId: 'cs-4', position: 1 },
    ]);
    const policy: Policy = { ...alwaysOpenPolicy(uniqueId('rotation')), deal: { ...alwaysOpenPolicy().deal!, csQueueId: queueId } };

    // One deal after the other: two deals routed at once may reach the queue in either order.
    const first = await startDeal({ policy });
    assert.equal((await withCsOwner(first.handle)).csOwnerId, 'cs-3');
    const second = await startDeal({ policy });
    assert.equal((await withCsOwner(second.handle)).csOwnerId, 'cs-4');

    const now = await h.now();
    await db.update(reps).set({ outOfOffice: [{ from: new Date(now - DAY).toISOString(), to: new Date(now + DAY).toISOString() }] }).where(eq(reps.repId, 'cs-3'));
    const third = await startDeal({ policy });
    assert.equal((await withCsOwner(third.handle)).csOwnerId, 'cs-4', 'cs-3 is out of office');
    const [assignment] = await db.select().from(dealCsAssignments).where(eq(dealCsAssignments.idempotencyKey, `${third.workflowId}:assign-cs-owner`));
    assert.equal(assignment?.queueId, queueId);
    assert.equal(assignment?.managerId, CS_MANAGER);
    await db.update(reps).set({ outOfOffice: [] }).where(eq(reps.repId, 'cs-3'));
  });

  test('a deal audit event is written once however often the activity runs, and never rolls a milestone back', async () => {
    const dealId = uniqueId('D');
    const event = (seq: number, breached: boolean): DealAuditEvent => ({
      workflowId: `deal-${dealId}`,
      dealId,
      seq,
      stepKey: `${seq}-test`,
      type: 'test',
      at: new Date(Date.UTC(2027, 0, 1, 0, seq)).toISOString(),
      actor: 'system',
      payload: { seq },
      projection: {
        accountName: 'Acme',
        amount: 99.5,
        currency: 'EUR',
        salesOwnerId: REP_A,
        csOwnerId: null,
        leadId: null,
        stage: seq === 1 ? 'AWAITING_DOSSIER' : 'AWAITING_KICKOFF',
        handoffState: 'on-track',
        policyVersion: 'v',
        signedAt: '2027-01-01T00:00:00Z',
        closedWonAt: '2027-01-01T00:00:00Z',
      },
      milestones: [{ milestone: 'dossier', kind: 'dossier', startedAt: '2027-01-01T00:00:00Z', dueAt: '2027-01-03T00:00:00Z', doneAt: null, actor: null, breached, businessMinutesTaken: null, businessMinutesLate: null }],
    });
    const { db } = h.database;
    assert.deepEqual(await recordDealEvents(db, [event(1, false), event(2, true)]), { written: 2 });
    assert.deepEqual(await recordDealEvents(db, [event(2, true)]), { written: 0 }, 'a retry writes nothing');
    // A different event with an older seq (a late, out-of-order write) never rolls the milestone back.
    assert.deepEqual(await recordDealEvents(db, [{ ...event(1, false), stepKey: '1-other' }]), { written: 1 });
    assert.equal((await events(dealId)).length, 3);
    const [row] = await milestones(dealId);
    assert.equal(row!.breached, true);
    assert.equal(row!.lastEventSeq, 2);
  });

  test('Warsaw calendar: the kickoff is due 5 business days after a Friday signature, skipping a holiday', async () => {
    // Resolved as of 2027 so the snapshot holds 2027's Polish holidays whatever year the test runs in.
    const policy = resolvePolicy({ ...defaultPolicyDocument(), version: uniqueId('warsaw') }, new Date('2027-06-01T00:00:00Z'));
    const signedAt = '2027-11-05T09:00:00.000Z'; // Friday 10:00 in Warsaw; Thursday 11 November is Independence Day
    const { dealId, handle } = await startDeal({ policy, deal: { signedAt, closedWonAt: signedAt, csOwnerId: 'cs-1' } });
    const view = await state(handle);
    assert.equal(view.calendarId, 'pl-sales');
    const kickoff = view.milestones.find((m) => m.key === 'kickoff')!;
    assert.equal(kickoff.due.at, '2027-11-15T09:00:00.000Z', 'Monday 15 November, 10:00 in Warsaw');
    assert.equal(view.milestones.find((m) => m.key === 'dossier')!.due.at, '2027-11-07T09:00:00.000Z', '48 wall-clock hours, weekend included');
    const row = await milestoneRow(dealId, 'kickoff', () => true, 'the kickoff milestone row');
    assert.equal(row.dueAt.toISOString(), '2027-11-15T09:00:00.000Z');

    // The one timer waits for the first deadline, and its summary says what it is for.
    const history = await eventually(() => handle.fetchHistory(), (candidate) => candidate.events!.some((event) => event.timerStartedEventAttributes), 'the first timer');
    const timer = history.events!.find((event) => event.timerStartedEventAttributes)!;
    const summary = timer.userMetadata?.summary?.data;
    assert.ok(summary, 'the timer has a summary');
    assert.equal(JSON.parse(Buffer.from(summary).toString('utf8')), 'Dossier due (48 h after win)');
  });
});

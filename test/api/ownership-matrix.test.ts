import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { notifications } from '../../db/schema.js';
import type { Role } from '../../service.config.js';
import { dealWorkflowId, leadWorkflowId } from '../../temporal.config.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { completeDossier as dossier, eventually, seedInboundQueue } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/**
 * Every step route × every role × owner / non-owner, against records in the stage where the step is allowed.
 * The expected answers come from the tables below, which restate the contract; nothing is derived from the
 * code under test. A refused step must leave the record exactly as it was: audit, lastEventSeq, notifications
 * and workflow history (nothing in it but, at most, a failed update).
 */

const ROLES: readonly Role[] = ['sales', 'cs', 'ops', 'manager'];
const LEAD_REPS = ['rep-anna', 'rep-bartek'];
const SALES_OWNER = 'rep-sales-1';
const OTHER_SALES = 'rep-sales-2';
const CS_REPS = ['cs-anna', 'cs-bartek'];

type LeadPrep = 'accept' | 'qualify' | 'pause';
type DealPrep = 'dossier' | 'kickoff' | 'incident';

interface RouteRule<Prep> {
  path: string;
  /** The roles the route admits. */
  admits: readonly Role[];
  /** Owner steps that put a fresh record in a stage where this step is allowed. */
  prepare: readonly Prep[];
  body: () => object;
  /** The audit event a step that applied must leave, by its caller. */
  event: string;
  /** A second successful step on the same record is still allowed, so one record serves every allowed caller. */
  repeatable?: boolean;
}

/** Migration needs a published version the lead does not already run under; set once the service runs. */
let otherPolicyVersion = '';

const leadRules: RouteRule<LeadPrep>[] = [
  { path: 'accept', admits: ['sales'], prepare: [], body: () => ({}), event: 'accepted' },
  { path: 'contact-attempts', admits: ['sales'], prepare: ['accept'], body: () => ({ channel: 'phone', outcome: 'no-answer' }), event: 'contact-attempted', repeatable: true },
  { path: 'qualify', admits: ['sales'], prepare: ['accept'], body: () => ({ need: true, budget: true, timing: true }), event: 'qualified' },
  { path: 'reject', admits: ['sales'], prepare: [], body: () => ({ reason: 'no-budget' }), event: 'returned-to-nurture' },
  { path: 'engagement', admits: ['sales', 'ops'], prepare: ['accept'], body: () => ({ behavior: 1 }), event: 'score-changed', repeatable: true },
  { path: 'pause', admits: ['sales'], prepare: ['accept'], body: () => ({ reason: 'rep on leave' }), event: 'paused' },
  { path: 'resume', admits: ['sales'], prepare: ['accept', 'pause'], body: () => ({}), event: 'resumed' },
  { path: 'reassign', admits: ['manager', 'ops'], prepare: ['accept'], body: () => ({ reason: 'load balancing' }), event: 'reassigned', repeatable: true },
  { path: 'close', admits: ['sales'], prepare: ['accept', 'qualify'], body: () => ({ outcome: 'lost', reason: 'went with a competitor' }), event: 'closed' },
  { path: 'policy', admits: ['ops'], prepare: ['accept'], body: () => ({ version: otherPolicyVersion, note: 'matrix' }), event: 'policy-migrated' },
  {
    path: 'next-step',
    admits: ['sales', 'manager', 'ops'],
    prepare: ['accept', 'qualify'],
    body: () => ({ dueAt: new Date(Date.now() + 86_400_000).toISOString(), type: 'call' }),
    event: 'next-step-set',
    repeatable: true,
  },
  { path: 'opportunity', admits: ['sales', 'manager', 'ops'], prepare: ['accept', 'qualify'], body: () => ({ stage: 'proposal', amount: 10000 }), event: 'opportunity-updated', repeatable: true },
];

const meeting = () => ({ heldAt: new Date().toISOString(), attendees: ['Jan'] });

const dealRules: RouteRule<DealPrep>[] = [
  { path: 'dossier', admits: ['sales'], prepare: [], body: () => dossier, event: 'dossier-delivered' },
  { path: 'kickoff', admits: ['cs'], prepare: ['dossier'], body: meeting, event: 'kickoff-held' },
  { path: 'qbr', admits: ['cs'], prepare: ['dossier', 'kickoff'], body: () => ({ heldAt: new Date().toISOString(), healthScore: 80 }), event: 'qbr-held' },
  { path: 'close-out', admits: ['cs', 'ops'], prepare: [], body: () => ({ reason: 'contract ended' }), event: 'closed-out' },
  { path: 'incidents', admits: ['sales', 'cs', 'ops', 'manager'], prepare: [], body: () => ({ severity: 'significant', summary: 'exports fail' }), event: 'incident-opened', repeatable: true },
  { path: 'incidents/INC-1/resolve', admits: ['cs', 'ops', 'manager'], prepare: ['incident'], body: () => ({ resolution: 'fixed' }), event: 'incident-resolved' },
];

/** One caller in the matrix: a role, and for sales and CS whether they own the record. */
interface Caller {
  role: Role;
  /** Whose record it is, for the roles ownership applies to on this kind of record. */
  owner?: boolean;
}

/** Sales own leads; on deals, sales own the dossier side and CS the onboarding side. Ops and managers own nothing. */
const leadCallers: Caller[] = [{ role: 'sales', owner: true }, { role: 'sales', owner: false }, { role: 'cs' }, { role: 'ops' }, { role: 'manager' }];
const dealCallers: Caller[] = [
  { role: 'sales', owner: true },
  { role: 'sales', owner: false },
  { role: 'cs', owner: true },
  { role: 'cs', owner: false },
  { role: 'ops' },
  { role: 'manager' },
];

/** The contract: a role the route does not admit → 403; an admitted sales/CS caller who does not own the record → 403; else 200. */
function expectedStatus(rule: RouteRule<unknown>, caller: Caller): 200 | 403 {
  if (!rule.admits.includes(caller.role)) return 403;
  return caller.owner === false ? 403 : 200;
}

const label = (caller: Caller) => `${caller.role}${caller.owner === undefined ? '' : caller.owner ? ' (owner)' : ' (not owner)'}`;

interface Snapshot {
  audit: Array<[number, string, string]>;
  lastEventSeq: number;
  notifications: number;
  historyLength: number;
}

describe('ownership matrix: every step route × role × owner, on a real dev server and Postgres', () => {
  let service: RunningService;
  const cells: string[] = [];

  before(async () => {
    const startPolicy = alwaysOpenPolicy(uniqueId('matrix'));
    service = await startService(startPolicy);
    await seedInboundQueue(service, LEAD_REPS);
    for (const [repId, managerId] of [[SALES_OWNER, 'mgr-sales'], ...CS_REPS.map((repId) => [repId, 'mgr-cs'])] as const) {
      const created = await service.request('POST', '/reps', { role: 'ops', body: { repId, name: repId, seniority: 'senior', managerId } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const csQueue = await service.request('POST', '/queues', {
      role: 'ops',
      body: { queueId: 'customer-success', name: 'Customer success', strategy: 'round-robin', managerId: 'mgr-cs', members: CS_REPS },
    });
    assert.equal(csQueue.status, 201, JSON.stringify(csQueue.body));
    // Published before any record starts: records start under it and migrate back to the version startService published.
    otherPolicyVersion = startPolicy.version;
    const published = await service.request('POST', '/policies', { role: 'ops', body: { note: 'records start under this one', policy: alwaysOpenPolicy(uniqueId('matrix-current')) } });
    assert.equal(published.status, 201, JSON.stringify(published.body));
  });
  after(async () => {
    const refusedCells = cells.filter((cell) => cell.endsWith('403')).length;
    console.log(`OWNERSHIP MATRIX ${cells.length} cells: ${refusedCells} refused with nothing recorded, ${cells.length - refusedCells} applied`);
    await service?.stop();
  });

  // ---- records and what we read of them ----------------------------------------------------------------

  const leadOwner = async (leadId: string) => (await service.request('GET', `/leads/${leadId}`, { role: 'ops' })).body.ownerId as string;

  /**
   * Until no deadline is due and the audit and the notifications hold everything the workflow counted: from
   * here on nothing moves on its own, so any change is the doing of the step under test.
   */
  async function quiet(kind: 'leads' | 'deals', id: string): Promise<void> {
    const workflowId = kind === 'leads' ? leadWorkflowId(id) : dealWorkflowId(id);
    let previous = '';
    await eventually(
      async () => {
        const [state, timeline, sent] = await Promise.all([
          service.request('GET', `/${kind}/${id}`, { role: 'ops' }),
          service.request('GET', `/${kind}/${id}/timeline`, { role: 'ops' }),
          service.database.db.select().from(notifications).where(eq(notifications.subjectId, workflowId)),
        ]);
        const soon = new Date(Date.now() + 2_000).toISOString();
        const events = timeline.status === 200 ? timeline.body.events : [];
        const settled =
          state.status === 200 &&
          (kind === 'leads' ? state.body.ownerId !== null : state.body.csOwnerId !== null) &&
          state.body.deadlines.every((deadline: { dueAt: string }) => deadline.dueAt > soon) &&
          events.length === state.body.lastEventSeq &&
          sent.length === state.body.notificationsSent;
        const now = JSON.stringify([state.body?.lastEventSeq, events.length, sent.length]);
        const stable = settled && now === previous;
        previous = settled ? now : '';
        return stable;
      },
      Boolean,
      `${kind} ${id} to settle`,
    );
  }

  async function newLead(prepare: readonly LeadPrep[]): Promise<string> {
    const leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', {
      body: { leadId, email: `${leadId.toLowerCase()}@example.com`, company: `Matrix ${leadId}`, icpTier: 2, score: { fit: 30, behavior: 10, intent: 5 } },
    });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    await quiet('leads', leadId);
    const bodies: Record<LeadPrep, object> = { accept: {}, qualify: { need: true, budget: true, timing: true }, pause: { reason: 'prospect asked for next week' } };
    for (const step of prepare) {
      const response = await service.request('POST', `/leads/${leadId}/${step}`, { as: await leadOwner(leadId), body: bodies[step] });
      assert.equal(response.status, 200, `preparing ${leadId}: ${step}: ${JSON.stringify(response.body)}`);
      await quiet('leads', leadId);
    }
    return leadId;
  }

  async function newDeal(prepare: readonly DealPrep[]): Promise<string> {
    const dealId = uniqueId('D');
    const now = new Date().toISOString();
    const intake = await service.request('POST', '/deals', {
      body: { dealId, accountName: `Matrix ${dealId}`, amount: 50000, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId: SALES_OWNER },
    });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    await quiet('deals', dealId);
    for (const step of prepare) {
      const csOwner = (await service.request('GET', `/deals/${dealId}`, { role: 'ops' })).body.csOwnerId as string;
      const response =
        step === 'dossier'
          ? await service.request('POST', `/deals/${dealId}/dossier`, { as: SALES_OWNER, body: dossier })
          : step === 'incident'
            ? await service.request('POST', `/deals/${dealId}/incidents`, { role: 'cs', as: csOwner, body: { severity: 'critical', summary: 'SSO down' } })
            : await service.request('POST', `/deals/${dealId}/kickoff`, { role: 'cs', as: csOwner, body: meeting() });
      assert.equal(response.status, 200, `preparing ${dealId}: ${step}: ${JSON.stringify(response.body)}`);
      await quiet('deals', dealId);
    }
    return dealId;
  }

  async function snapshot(kind: 'leads' | 'deals', id: string): Promise<Snapshot> {
    const workflowId = kind === 'leads' ? leadWorkflowId(id) : dealWorkflowId(id);
    const [state, timeline, sent, history] = await Promise.all([
      service.request('GET', `/${kind}/${id}`, { role: 'ops' }),
      service.request('GET', `/${kind}/${id}/timeline`, { role: 'ops' }),
      service.database.db.select().from(notifications).where(eq(notifications.subjectId, workflowId)),
      service.temporal.client.workflow.getHandle(workflowId).fetchHistory(),
    ]);
    assert.equal(timeline.status, 200, JSON.stringify(timeline.body));
    return {
      audit: timeline.body.events.map((event: { seq: number; type: string; actor: string }) => [event.seq, event.type, event.actor]),
      lastEventSeq: state.body.lastEventSeq,
      notifications: sent.length,
      historyLength: history.events!.length,
    };
  }

  /** Whatever a refused step left in the history may only be the update that failed, never a command. */
  async function assertHistoryHoldsOnlyFailedUpdates(workflowId: string, from: number, what: string): Promise<void> {
    const history = await service.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    for (const event of history.events!.slice(from)) {
      const allowed =
        event.workflowTaskScheduledEventAttributes ||
        event.workflowTaskStartedEventAttributes ||
        event.workflowTaskCompletedEventAttributes ||
        event.workflowExecutionUpdateAcceptedEventAttributes ||
        event.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure;
      assert.ok(allowed, `${what}: the history gained ${JSON.stringify(event).slice(0, 300)}`);
    }
  }

  async function actorFor(kind: 'leads' | 'deals', id: string, caller: Caller): Promise<string | undefined> {
    if (caller.owner === undefined) return undefined; // the role's default actor, who owns nothing
    if (kind === 'leads') {
      const owner = await leadOwner(id);
      return caller.owner ? owner : LEAD_REPS.find((rep) => rep !== owner);
    }
    if (caller.role === 'sales') return caller.owner ? SALES_OWNER : OTHER_SALES;
    const csOwner = (await service.request('GET', `/deals/${id}`, { role: 'ops' })).body.csOwnerId as string;
    return caller.owner ? csOwner : CS_REPS.find((rep) => rep !== csOwner);
  }

  async function walk<Prep>(kind: 'leads' | 'deals', rule: RouteRule<Prep>, callers: Caller[], fresh: () => Promise<string>): Promise<void> {
    const refused = callers.filter((caller) => expectedStatus(rule, caller) === 403);
    const allowed = callers.filter((caller) => expectedStatus(rule, caller) === 200);
    assert.ok(allowed.length > 0, `${rule.path}: some caller may take it`);
    const records = await Promise.all(Array.from({ length: rule.repeatable ? 1 : allowed.length }, fresh));
    const id = records[0]!;
    const workflowId = kind === 'leads' ? leadWorkflowId(id) : dealWorkflowId(id);

    // Refusals first, all on one record: each must leave it exactly as it was.
    const before = await snapshot(kind, id);
    for (const caller of refused) {
      const what = `${rule.path} by ${label(caller)}`;
      const as = await actorFor(kind, id, caller);
      const response = await service.request('POST', `/${kind}/${id}/${rule.path}`, { role: caller.role, as, body: rule.body() });
      assert.equal(response.status, 403, `${what}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error, 'forbidden', what);
      const now = await snapshot(kind, id);
      assert.deepEqual(now.audit, before.audit, `${what}: the audit changed`);
      assert.equal(now.lastEventSeq, before.lastEventSeq, `${what}: lastEventSeq moved`);
      assert.equal(now.notifications, before.notifications, `${what}: a notification was sent`);
      await assertHistoryHoldsOnlyFailedUpdates(workflowId, before.historyLength, what);
      cells.push(`${kind === 'leads' ? 'lead' : 'deal'} ${what} 403`);
    }

    for (const [index, caller] of allowed.entries()) {
      const target = records[rule.repeatable ? 0 : index]!;
      const what = `${rule.path} by ${label(caller)}`;
      const as = await actorFor(kind, target, caller);
      const prior = await snapshot(kind, target);
      const response = await service.request('POST', `/${kind}/${target}/${rule.path}`, { role: caller.role, as, body: rule.body() });
      assert.equal(response.status, 200, `${what}: ${JSON.stringify(response.body)}`);
      // The answer comes after the audit commit, so the timeline already holds the step, by its caller.
      const after = await snapshot(kind, target);
      const added = after.audit.slice(prior.audit.length);
      const actor = as ?? `${caller.role}-actor`;
      assert.ok(
        added.some(([, type, by]) => type === rule.event && by === actor),
        `${what}: expected ${rule.event} by ${actor} in the audit, got ${JSON.stringify(added)}`,
      );
      assert.deepEqual(after.audit.slice(0, prior.audit.length), prior.audit, `${what}: earlier audit rows changed`);
      assert.equal(response.body.lastEventSeq, after.audit.at(-1)![0], `${what}: the answer's lastEventSeq is the audit's last seq`);
      cells.push(`${kind === 'leads' ? 'lead' : 'deal'} ${what} 200`);
    }
  }

  for (const rule of leadRules) {
    test(`lead ${rule.path}: ${leadCallers.map((caller) => `${label(caller)} → ${expectedStatus(rule, caller)}`).join(', ')}`, async () => {
      await walk('leads', rule, leadCallers, () => newLead(rule.prepare));
    });
  }

  for (const rule of dealRules) {
    test(`deal ${rule.path}: ${dealCallers.map((caller) => `${label(caller)} → ${expectedStatus(rule, caller)}`).join(', ')}`, async () => {
      await walk('deals', rule, dealCallers, () => newDeal(rule.prepare));
    });
  }

  // Policy backtesting reads every lead and deal of a window: ops and managers, never a rep.
  const simulationAdmits: readonly Role[] = ['ops', 'manager'];
  test(`policy simulation: ${ROLES.map((role) => `${role} → ${simulationAdmits.includes(role) ? 200 : 403}`).join(', ')}`, async () => {
    const window = { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    for (const role of ROLES) {
      const response = await service.request('POST', '/policies/simulate', { role, body: { version: otherPolicyVersion, ...window, sample: 1 } });
      const expected = simulationAdmits.includes(role) ? 200 : 403;
      assert.equal(response.status, expected, `simulate by ${role}: ${JSON.stringify(response.body).slice(0, 300)}`);
      if (expected === 403) assert.equal(response.body.error, 'forbidden');
      else assert.ok(response.body.recorded.leads > 0 && response.body.recorded.deals > 0, 'the matrix’s records are in the window');
      cells.push(`simulate by ${role} ${response.status}`);
    }
  });

  test('the matrix covered every cell, and every role on every kind of record', () => {
    for (const callers of [leadCallers, dealCallers]) assert.deepEqual([...new Set(callers.map((caller) => caller.role))].sort(), [...ROLES].sort());
    assert.equal(cells.length, leadRules.length * leadCallers.length + dealRules.length * dealCallers.length + ROLES.length);
  });
});

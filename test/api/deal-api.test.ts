import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { authenticate } from '../../api/auth.js';
import { dealRoutes } from '../../api/deals.js';
import { dealEvents, deals } from '../../db/schema.js';
import { dealWorkflowId } from '../../temporal.config.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually } from '../support/scenarios.js';
import { startService, testApiKeys, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

const SALES_REP = 'rep-sales-1';
const CS_REPS = ['cs-anna', 'cs-bartek'];

const dossier = {
  businessGoals: ['Cut first-response time for support tickets'],
  scope: 'Helpdesk for 3 teams; SSO via Azure AD',
  kpis: [{ name: 'FRT', metric: 'median first-response time', target: 2, unit: 'hours' }],
  stakeholders: [
    { name: 'Ewa', role: 'economic-buyer' },
    { name: 'Jan', role: 'champion' },
  ],
  risks: [],
};

function intakeBody(dealId: string, overrides: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return { dealId, accountName: 'Acme', amount: 120000, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId: SALES_REP, ...overrides };
}

describe('deal API on a real Temporal dev server and Postgres', () => {
  let service: RunningService;
  const policy = alwaysOpenPolicy(uniqueId('deal-api'));

  before(async () => {
    service = await startService(policy);
    // Until api/app.ts mounts the deal routes, mount them here exactly as the app mounts a resource.
    if (!service.app.routes.some((route) => route.path.startsWith('/deals'))) {
      const authenticated = authenticate(testApiKeys);
      service.app.use('/deals', authenticated).use('/deals/*', authenticated);
      service.app.route('/deals', dealRoutes({ client: service.temporal.client, db: service.database.db, currentPolicy: async () => policy }));
    }
    for (const [repId, managerId] of [[SALES_REP, 'mgr-sales'], ...CS_REPS.map((repId) => [repId, 'mgr-cs'])] as const) {
      const created = await service.request('POST', '/reps', { role: 'ops', body: { repId, name: repId, seniority: 'senior', managerId } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const queue = await service.request('POST', '/queues', {
      role: 'ops',
      body: { queueId: policy.deal!.csQueueId, name: 'Customer success', strategy: 'round-robin', managerId: 'mgr-cs', members: CS_REPS },
    });
    assert.equal(queue.status, 201, JSON.stringify(queue.body));
  });
  after(async () => {
    await service?.stop();
  });

  async function newDeal(): Promise<string> {
    const dealId = uniqueId('D');
    const intake = await service.request('POST', '/deals', { body: intakeBody(dealId) });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    await eventually(() => service.request('GET', `/deals/${dealId}`), (r) => r.body.csOwnerId !== null, 'the CS owner');
    return dealId;
  }

  test('intake starts one workflow per dealId; a repeated intake returns that workflow and changes nothing', async () => {
    const dealId = uniqueId('D');
    const first = await service.request('POST', '/deals', { body: intakeBody(dealId) });
    assert.equal(first.status, 201);
    assert.deepEqual(first.body, { dealId, workflowId: dealWorkflowId(dealId), stage: 'AWAITING_DOSSIER' });

    const again = await service.request('POST', '/deals', { role: 'ops', body: intakeBody(dealId, { amount: 1, accountName: 'Other' }) });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { dealId, workflowId: dealWorkflowId(dealId), stage: 'AWAITING_DOSSIER' });

    const runs = [];
    for await (const execution of service.temporal.client.workflow.list({ query: `WorkflowId = '${dealWorkflowId(dealId)}'` })) runs.push(execution);
    assert.equal(runs.length, 1);
    const state = await service.request('GET', `/deals/${dealId}`);
    assert.equal(state.body.accountName, 'Acme', 'the second intake changed nothing');
    assert.equal(state.body.amount, 120000);
  });

  test('the handoff through the API: CS owner from the queue, dossier, kickoff, live state and timeline', async () => {
    const dealId = await newDeal();
    const state = (await service.request('GET', `/deals/${dealId}`, { role: 'manager' })).body;
    assert.ok(CS_REPS.includes(state.csOwnerId), `CS owner ${state.csOwnerId} from the CS queue`);
    assert.equal(state.salesOwnerId, SALES_REP);
    assert.equal(state.policyVersion, policy.version);
    assert.deepEqual(state.milestones.map((m: { key: string }) => m.key), ['dossier', 'kickoff', 'qbr-1']);
    assert.equal(state.deadlines[0].label, 'Dossier due (48 h after win)');

    const delivered = await service.request('POST', `/deals/${dealId}/dossier`, { as: SALES_REP, body: dossier });
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    assert.equal(delivered.body.stage, 'AWAITING_KICKOFF');
    assert.equal(delivered.body.dossier.actor, SALES_REP);

    const kickoff = await service.request('POST', `/deals/${dealId}/kickoff`, { role: 'cs', as: state.csOwnerId, body: { heldAt: new Date().toISOString(), attendees: ['Jan', 'cs-anna'] } });
    assert.equal(kickoff.status, 200, JSON.stringify(kickoff.body));
    assert.equal(kickoff.body.stage, 'ONBOARDING');
    assert.deepEqual(kickoff.body.deadlines.map((d: { label: string }) => d.label), ['QBR 1 reminder (14 days ahead)', 'QBR 1 due (90 days after signature)']);

    const timeline = await eventually(
      () => service.request('GET', `/deals/${dealId}/timeline`, { role: 'cs' }),
      (r) => r.status === 200 && r.body.events.some((e: { type: string }) => e.type === 'kickoff-held'),
      'the kickoff in the timeline',
    );
    assert.deepEqual(
      timeline.body.events.map((e: { type: string; actor: string }) => [e.type, e.actor]),
      [
        ['received', 'sales-actor'],
        ['cs-owner-assigned', 'system'],
        ['dossier-delivered', SALES_REP],
        ['kickoff-held', state.csOwnerId],
      ],
    );
    const byKey = Object.fromEntries(timeline.body.milestones.map((m: { milestone: string }) => [m.milestone, m]));
    assert.equal(byKey.dossier.breached, false);
    assert.equal(byKey.dossier.actor, SALES_REP);
    assert.equal(byKey.dossier.businessMinutesLate, 0);
    assert.equal(byKey.kickoff.actor, state.csOwnerId);
    assert.equal(byKey['qbr-1'].doneAt, null);
    assert.equal((await service.request('GET', `/deals/${dealId}/timeline`, { role: 'ops' })).status, 200);
    const [projection] = await service.database.db.select().from(deals).where(eq(deals.dealId, dealId));
    assert.deepEqual(
      [projection?.stage, projection?.csOwnerId, projection?.handoffState, projection?.amount, projection?.currency],
      ['ONBOARDING', state.csOwnerId, 'on-track', 120000, 'EUR'],
      'the deals projection shows the deal as its last event left it',
    );

    // Ops find the deal by its stage in visibility.
    const query = `DealStage = "ONBOARDING" AND HandoffState = "on-track" AND WorkflowId = "${dealWorkflowId(dealId)}"`;
    await eventually(async () => (await service.temporal.client.workflow.count(query)).count, (count) => count === 1, 'the deal in visibility');
  });

  test('400 names what is missing from an intake or a dossier', async () => {
    const badIntake = await service.request('POST', '/deals', { body: intakeBody(uniqueId('D'), { amount: 0, currency: 'EURO', signedAt: 'yesterday' }) });
    assert.equal(badIntake.status, 400);
    assert.deepEqual(badIntake.body.issues.map((issue: { path: string }) => issue.path).sort(), ['amount', 'currency', 'signedAt']);
    assert.equal((await service.request('POST', '/deals', { body: intakeBody(uniqueId('D'), { currency: 'XYZ' }) })).status, 400);

    const dealId = await newDeal();
    const noChampion = await service.request('POST', `/deals/${dealId}/dossier`, { as: SALES_REP, body: { ...dossier, stakeholders: [{ name: 'Ewa', role: 'economic-buyer' }] } });
    assert.equal(noChampion.status, 400);
    assert.deepEqual(noChampion.body.issues, [{ path: 'stakeholders', message: 'at least one champion is required' }]);

    const vagueKpi = await service.request('POST', `/deals/${dealId}/dossier`, { as: SALES_REP, body: { ...dossier, kpis: [{ name: 'Happiness', metric: 'vibes' }], businessGoals: [] } });
    assert.equal(vagueKpi.status, 400);
    assert.deepEqual(vagueKpi.body.issues.map((issue: { path: string }) => issue.path).sort(), ['businessGoals', 'kpis.0.target']);

    assert.equal((await service.request('GET', `/deals/${dealId}`)).body.stage, 'AWAITING_DOSSIER', 'a refused dossier changes nothing');
  });

  test('403 when the role may not take the step', async () => {
    const dealId = await newDeal();
    const salesKickoff = await service.request('POST', `/deals/${dealId}/kickoff`, { role: 'sales', body: { heldAt: new Date().toISOString(), attendees: ['x'] } });
    assert.equal(salesKickoff.status, 403);
    assert.equal((await service.request('POST', `/deals/${dealId}/dossier`, { role: 'cs', body: dossier })).status, 403);
    assert.equal((await service.request('POST', '/deals', { role: 'manager', body: intakeBody(uniqueId('D')) })).status, 403);
    assert.equal((await service.request('POST', `/deals/${dealId}/close-out`, { role: 'sales', body: { reason: 'x' } })).status, 403);
    assert.equal((await service.request('GET', `/deals/${dealId}`, { role: null })).status, 401);
    assert.equal((await service.request('GET', `/deals/${dealId}`)).body.kickoff, null, 'a forbidden step changes nothing');
  });

  test('404 for a deal that does not exist', async () => {
    const unknown = uniqueId('missing');
    assert.equal((await service.request('GET', `/deals/${unknown}`)).status, 404);
    assert.equal((await service.request('GET', `/deals/${unknown}/timeline`)).status, 404);
    assert.equal((await service.request('POST', `/deals/${unknown}/kickoff`, { role: 'cs', body: { heldAt: new Date().toISOString(), attendees: ['x'] } })).status, 404);
  });

  test('409 for a step the stage does not allow, and nothing changes', async () => {
    const dealId = await newDeal();
    const csOwner = (await service.request('GET', `/deals/${dealId}`)).body.csOwnerId as string;
    const earlyQbr = await service.request('POST', `/deals/${dealId}/qbr`, { role: 'cs', as: csOwner, body: { heldAt: new Date().toISOString(), healthScore: 70 } });
    assert.equal(earlyQbr.status, 409);
    assert.match(earlyQbr.body.message, /dossier and the onboarding kickoff come first/);

    assert.equal((await service.request('POST', `/deals/${dealId}/dossier`, { as: SALES_REP, body: dossier })).status, 200);
    const secondDossier = await service.request('POST', `/deals/${dealId}/dossier`, { as: SALES_REP, body: dossier });
    assert.equal(secondDossier.status, 409);
    assert.match(secondDossier.body.message, /already delivered/);

    const history = await service.temporal.client.workflow.getHandle(dealWorkflowId(dealId)).fetchHistory();
    assert.equal(history.events!.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length, 1, 'refused steps never enter history');

    const closed = await service.request('POST', `/deals/${dealId}/close-out`, { role: 'ops', body: { reason: 'contract cancelled' } });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.stage, 'CLOSED_OUT');
    await service.temporal.client.workflow.getHandle(dealWorkflowId(dealId)).result();
    const afterEnd = await service.request('POST', `/deals/${dealId}/kickoff`, { role: 'cs', as: csOwner, body: { heldAt: new Date().toISOString(), attendees: ['x'] } });
    assert.equal(afterEnd.status, 409, JSON.stringify(afterEnd.body));
    assert.equal(afterEnd.body.error, 'closed');
    assert.match(afterEnd.body.message, /is closed \(stage CLOSED_OUT\)/);
    assert.equal((await service.request('GET', `/deals/${dealId}`)).body.stage, 'CLOSED_OUT', 'a finished deal can still be read');
    const types = (await service.database.db.select().from(dealEvents).where(eq(dealEvents.dealId, dealId))).map((event) => event.type);
    assert.ok(types.includes('closed-out'));
  });

  test('incidents through the API: opened with its clock, resolved once under an Idempotency-Key, limits answered 400', async () => {
    const dealId = await newDeal();
    const csOwner = (await service.request('GET', `/deals/${dealId}`)).body.csOwnerId as string;
    const tooLong = await service.request('POST', `/deals/${dealId}/incidents`, { role: 'cs', as: csOwner, body: { severity: 'critical', summary: 'x'.repeat(1001) } });
    assert.equal(tooLong.status, 400, JSON.stringify(tooLong.body));
    const unknown = await service.request('POST', `/deals/${dealId}/incidents`, { role: 'cs', as: csOwner, body: { severity: 'urgent', summary: 'down' } });
    assert.equal(unknown.status, 400);

    const opened = await service.request('POST', `/deals/${dealId}/incidents`, { role: 'cs', as: csOwner, body: { severity: 'critical', summary: 'SSO login fails' } });
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    const incident = opened.body.incidents[0];
    assert.equal(incident.incidentId, 'INC-1');
    assert.equal(Date.parse(incident.dueAt) - Date.parse(incident.openedAt), 24 * 3_600_000);

    const headers = { 'Idempotency-Key': `resolve-${dealId}` };
    const resolved = await service.request('POST', `/deals/${dealId}/incidents/INC-1/resolve`, { role: 'cs', as: csOwner, headers, body: { resolution: 'certificate rotated' } });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    const again = await service.request('POST', `/deals/${dealId}/incidents/INC-1/resolve`, { role: 'cs', as: csOwner, headers, body: { resolution: 'certificate rotated' } });
    assert.equal(again.status, 200, 'a retry answers what the step left');
    assert.equal(again.body.incidents[0].resolvedAt, resolved.body.incidents[0].resolvedAt);
    const twice = await service.request('POST', `/deals/${dealId}/incidents/INC-1/resolve`, { role: 'cs', as: csOwner, body: {} });
    assert.equal(twice.status, 409);
    const sales = await service.request('POST', `/deals/${dealId}/incidents/INC-1/resolve`, { role: 'sales', as: SALES_REP, body: {} });
    assert.equal(sales.status, 403);
    const types = (await service.database.db.select().from(dealEvents).where(eq(dealEvents.dealId, dealId))).map((event) => event.type);
    assert.deepEqual(types.filter((type) => type.startsWith('incident-')), ['incident-opened', 'incident-resolved']);
  });
});

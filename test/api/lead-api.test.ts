import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { leadEvents } from '../../db/schema.js';
import { leadWorkflowId } from '../../temporal.config.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { ownerOf } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';
import { eventually } from '../support/scenarios.js';

const mqlScore = { fit: 30, behavior: 10, intent: 5 };
const coldScore = { fit: 10, behavior: 5, intent: 0 };

function intakeBody(leadId: string, score: object = mqlScore) {
  return { leadId, email: `${leadId.toLowerCase()}@example.com`, company: 'Acme', icpTier: 2, score };
}

describe('lead API on a real Temporal dev server and Postgres', () => {
  let service: RunningService;
  before(async () => {
    service = await startService(alwaysOpenPolicy());
    for (const repId of ['rep-anna', 'rep-bartek']) {
      const created = await service.request('POST', '/reps', { role: 'ops', body: { repId, name: repId, seniority: 'senior', managerId: 'mgr-ola' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const queue = await service.request('POST', '/queues', {
      role: 'ops',
      body: { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'mgr-ola', members: ['rep-anna', 'rep-bartek'] },
    });
    assert.equal(queue.status, 201, JSON.stringify(queue.body));
  });
  after(async () => {
    await service?.stop();
  });

  /** A new MQL, once routing has given it an owner (as a rep would first see it). */
  async function newMql(): Promise<string> {
    const leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', { body: intakeBody(leadId) });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const deadline = Date.now() + 10_000;
    while ((await service.request('GET', `/leads/${leadId}`)).body.ownerId === null) {
      assert.ok(Date.now() < deadline, 'the lead was never routed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return leadId;
  }

  test('intake starts one workflow per leadId, and a repeated intake returns that workflow', async () => {
    const leadId = uniqueId('L');
    const first = await service.request('POST', '/leads', { body: intakeBody(leadId) });
    assert.equal(first.status, 201);
    assert.deepEqual(first.body, { leadId, workflowId: leadWorkflowId(leadId), stage: 'MQL' });

    const again = await service.request('POST', '/leads', { body: { ...intakeBody(leadId), company: 'Other' } });
    assert.equal(again.status, 200);
    assert.equal(again.body.workflowId, leadWorkflowId(leadId));

    const runs = [];
    for await (const execution of service.temporal.client.workflow.list({ query: `WorkflowId = '${leadWorkflowId(leadId)}'` })) {
      runs.push(execution);
    }
    assert.equal(runs.length, 1);
    const state = await service.request('GET', `/leads/${leadId}`);
    assert.equal(state.body.profile.company, 'Acme', 'the second intake changed nothing');
  });

  test('the score decides the entry stage', async () => {
    const leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', { body: intakeBody(leadId, coldScore) });
    assert.equal(intake.body.stage, 'LEAD');
    const state = await service.request('GET', `/leads/${leadId}`);
    assert.equal(state.body.stage, 'LEAD');
    assert.equal(state.body.score.total, 15);
  });

  test('a lead goes MQL → SAL → SQL, and every step is in the audit with its actor', async () => {
    const leadId = await newMql();
    const as = await ownerOf(service, leadId);
    const accepted = await service.request('POST', `/leads/${leadId}/accept`, { as, body: {} });
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.stage, 'SAL');

    const attempt = await service.request('POST', `/leads/${leadId}/contact-attempts`, { as, body: { channel: 'phone', outcome: 'connected' } });
    assert.equal(attempt.status, 200);
    assert.equal(attempt.body.attempts.length, 1);

    const qualified = await service.request('POST', `/leads/${leadId}/qualify`, { as, body: { need: true, budget: true, timing: true } });
    assert.equal(qualified.status, 200);
    assert.equal(qualified.body.stage, 'SQL');

    const timeline = await service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' });
    assert.equal(timeline.status, 200);
    assert.deepEqual(
      timeline.body.events.map((event: { type: string; actor: string }) => [event.type, event.actor]),
      [
        ['received', 'sales-actor'],
        ['routed', 'system'],
        ['accepted', as],
        ['contact-attempted', as],
        ['speed-to-lead-met', 'system'],
        ['cadence-ended', as],
        ['qualified', as],
      ],
    );
    assert.deepEqual(timeline.body.events.map((event: { seq: number }) => event.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(timeline.body.events[1].payload.repId, as, 'the rep routing chose is the one who took the steps');
    assert.equal(timeline.body.events[4].payload.breached, false);
    const qualifiedEvent = timeline.body.events[6];
    assert.deepEqual([qualifiedEvent.payload.from, qualifiedEvent.payload.to], ['SAL', 'SQL']);
  });

  test('a rejected lead goes to nurture with its reason', async () => {
    const leadId = await newMql();
    const rejected = await service.request('POST', `/leads/${leadId}/reject`, { as: await ownerOf(service, leadId), body: { reason: 'no-budget' } });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.stage, 'NURTURE');
    assert.equal(rejected.body.nurtureReason, 'no-budget');
  });

  test('a lead with an invalid e-mail and no company is taken in and flagged, and belongs to no account', async () => {
    // Two such leads: without a company neither is the other's account, so the second is not routed to the first's rep as its account owner.
    const reasons: string[] = [];
    for (const email of ['not-an-address', undefined]) {
      const leadId = uniqueId('L');
      const { company: _company, email: _email, ...rest } = intakeBody(leadId);
      const intake = await service.request('POST', '/leads', { body: email === undefined ? rest : { ...rest, email } });
      assert.equal(intake.status, 201, JSON.stringify(intake.body));
      const state = await eventually(() => service.request('GET', `/leads/${leadId}`), (r) => r.body.ownerId !== null, 'routing');
      assert.deepEqual(state.body.flags, ['email-invalid', 'company-missing']);
      const timeline = await service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' });
      reasons.push(timeline.body.events.find((event: { type: string }) => event.type === 'routed').payload.reason);
      const flagged = timeline.body.events.filter((event: { type: string }) => event.type === 'record-flagged');
      assert.deepEqual(flagged.map((event: { payload: { flag: string } }) => event.payload.flag), ['email-invalid', 'company-missing']);
    }
    assert.ok(!reasons.includes('account-owner'), `routing reasons ${reasons.join(', ')}`);
    const tooLong = await service.request('POST', '/leads', { body: { ...intakeBody(uniqueId('L')), email: 'a'.repeat(255) } });
    assert.equal(tooLong.status, 400, 'the limits still hold');
  });

  test('401 without a token or with an unknown one', async () => {
    const leadId = uniqueId('L');
    const missing = await service.request('POST', '/leads', { role: null, body: intakeBody(leadId) });
    assert.equal(missing.status, 401);
    const response = await service.app.request('/leads/x', { headers: { authorization: 'Bearer nope' } });
    assert.equal(response.status, 401);
    const health = await service.app.request('/health');
    assert.equal(health.status, 200, '/health needs no token');
  });

  test('403 when the role may not take the step', async () => {
    const leadId = await newMql();
    const asCs = await service.request('POST', `/leads/${leadId}/accept`, { role: 'cs', body: {} });
    assert.equal(asCs.status, 403);
    const intakeAsManager = await service.request('POST', '/leads', { role: 'manager', body: intakeBody(uniqueId('L')) });
    assert.equal(intakeAsManager.status, 403);
    const state = await service.request('GET', `/leads/${leadId}`);
    assert.equal(state.body.stage, 'MQL', 'a forbidden step changes nothing');
  });

  test('400 names the field that is wrong', async () => {
    const leadId = await newMql();
    const noReason = await service.request('POST', `/leads/${leadId}/reject`, { body: {} });
    assert.equal(noReason.status, 400);
    assert.deepEqual(noReason.body.issues.map((issue: { path: string }) => issue.path), ['reason']);

    const badChannel = await service.request('POST', `/leads/${leadId}/contact-attempts`, { body: { channel: 'fax', outcome: 'no-answer' } });
    assert.equal(badChannel.status, 400);
    assert.match(badChannel.body.message, /channel/);

    const badTier = await service.request('POST', '/leads', { body: { ...intakeBody(uniqueId('L')), icpTier: 4 } });
    assert.equal(badTier.status, 400);
    assert.match(badTier.body.message, /icpTier/);

    const notJson = await service.request('POST', '/leads', { rawBody: '{"leadId":' });
    assert.equal(notJson.status, 400);

    const unconfirmed = await service.request('POST', `/leads/${leadId}/qualify`, { body: { need: true, budget: false, timing: true } });
    assert.equal(unconfirmed.status, 400);
    assert.match(unconfirmed.body.message, /budget/);
  });

  test('404 for a lead that does not exist', async () => {
    const unknown = uniqueId('missing');
    assert.equal((await service.request('GET', `/leads/${unknown}`)).status, 404);
    assert.equal((await service.request('GET', `/leads/${unknown}/timeline`)).status, 404);
    assert.equal((await service.request('POST', `/leads/${unknown}/accept`, { body: {} })).status, 404);
  });

  test('409 for a step the stage does not allow, and nothing changes', async () => {
    const leadId = await newMql();
    const as = await ownerOf(service, leadId);
    const qualifyMql = await service.request('POST', `/leads/${leadId}/qualify`, { as, body: { need: true, budget: true, timing: true } });
    assert.equal(qualifyMql.status, 409);
    assert.match(qualifyMql.body.message, /cannot qualify a lead in stage MQL/);
    const attemptMql = await service.request('POST', `/leads/${leadId}/contact-attempts`, { as, body: { channel: 'email', outcome: 'no-answer' } });
    assert.equal(attemptMql.status, 409);

    const state = await service.request('GET', `/leads/${leadId}`);
    assert.equal(state.body.stage, 'MQL');
    assert.equal(state.body.attempts.length, 0);
    const history = await service.temporal.client.workflow.getHandle(leadWorkflowId(leadId)).fetchHistory();
    const updates = history.events!.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes);
    assert.equal(updates.length, 0, 'a refused step never enters the history');
    const events = await service.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId));
    assert.deepEqual(events.map((event) => event.type).sort(), ['received', 'routed']);
  });

  test('409 for accepting a lead in nurture', async () => {
    const leadId = await newMql();
    const as = await ownerOf(service, leadId);
    await service.request('POST', `/leads/${leadId}/reject`, { as, body: { reason: 'too-early' } });
    const acceptNurture = await service.request('POST', `/leads/${leadId}/accept`, { as, body: {} });
    assert.equal(acceptNurture.status, 409);
    assert.match(acceptNurture.body.message, /cannot accept a lead in stage NURTURE/);
    assert.equal((await service.request('GET', `/leads/${leadId}`)).body.stage, 'NURTURE');
  });

  test('ops find leads by stage through the LeadStage search attribute', async () => {
    const leadId = await newMql();
    assert.equal((await service.request('POST', `/leads/${leadId}/accept`, { as: await ownerOf(service, leadId), body: {} })).status, 200);
    const query = `LeadStage = "SAL" AND WorkflowId = "${leadWorkflowId(leadId)}"`;
    const deadline = Date.now() + 15_000;
    let found = 0;
    while (Date.now() < deadline && found === 0) {
      found = (await service.temporal.client.workflow.count(query)).count;
      if (found === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(found, 1);
    assert.equal((await service.temporal.client.workflow.count(`LeadStage = "MQL" AND WorkflowId = "${leadWorkflowId(leadId)}"`)).count, 0);
  });
});

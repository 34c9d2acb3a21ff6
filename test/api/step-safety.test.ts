import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq } from 'drizzle-orm';
import { leadEvents, notifications } from '../../db/schema.js';
import { STEP_NOT_RECORDED } from '../../domain/failures.js';
import { dealWorkflowId, leadWorkflowId } from '../../temporal.config.js';
import { recordEngagementUpdate } from '../../workflows/lead-definitions.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { completeDossier, eventually } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/**
 * What users meet on their second day: steps sent at the same moment, a step a moment after intake, a client
 * retrying after a timeout, a step on a closed record. The inbound queue has one rep, so the owner of every
 * lead is known before routing has run and a rep can act on a lead the moment it is taken in.
 */

const OWNER = 'rep-anna';
const OTHER_REP = 'rep-bartek';
const CS_OWNER = 'cs-anna';
const SALES_OWNER = 'rep-sales-1';


describe('steps are safe: ordered, owner-scoped, idempotent, answered after the audit', () => {
  let service: RunningService;
  const policy = alwaysOpenPolicy(uniqueId('step-safety'));

  before(async () => {
    service = await startService(policy);
    for (const [repId, managerId] of [
      [OWNER, 'mgr-ola'],
      [OTHER_REP, 'mgr-ola'],
      [SALES_OWNER, 'mgr-sales'],
      [CS_OWNER, 'mgr-cs'],
    ]) {
      const created = await service.request('POST', '/reps', { role: 'ops', body: { repId, name: repId, seniority: 'senior', managerId } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    for (const [queueId, members, managerId] of [
      ['inbound', [OWNER], 'mgr-ola'],
      [policy.deal!.csQueueId, [CS_OWNER], 'mgr-cs'],
    ] as const) {
      const queue = await service.request('POST', '/queues', { role: 'ops', body: { queueId, name: queueId, strategy: 'round-robin', managerId, members } });
      assert.equal(queue.status, 201, JSON.stringify(queue.body));
    }
  });
  after(async () => {
    await service?.stop();
  });

  const intake = async (leadId: string) => {
    const response = await service.request('POST', '/leads', {
      body: { leadId, email: `${leadId.toLowerCase()}@example.com`, company: `Company ${leadId}`, icpTier: 1, score: { fit: 30, behavior: 10, intent: 5 } },
    });
    assert.equal(response.status, 201, JSON.stringify(response.body));
  };
  const events = (leadId: string) =>
    service.database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId)).orderBy(asc(leadEvents.seq));
  const typesOf = async (leadId: string) => (await events(leadId)).map((event) => event.type);
  const ownerNow = async (leadId: string) => (await service.request('GET', `/leads/${leadId}`, { role: 'ops' })).body.ownerId as string | null;
  const step = (leadId: string, path: string, body: object, options: { as?: string; role?: 'sales' | 'manager' | 'ops'; key?: string } = {}) =>
    service.request('POST', `/leads/${leadId}/${path}`, {
      role: options.role ?? 'sales',
      as: options.as ?? (options.role ? undefined : OWNER),
      body,
      headers: options.key ? { 'idempotency-key': options.key } : {},
    });

  test('a step sent a moment after intake waits for intake and routing: the audit starts received, routed', async () => {
    const leadIds = Array.from({ length: 8 }, () => uniqueId('L-fast'));
    const accepted = await Promise.all(
      leadIds.map(async (leadId) => {
        await intake(leadId);
        return step(leadId, 'accept', {});
      }),
    );
    for (const [index, leadId] of leadIds.entries()) {
      assert.equal(accepted[index]!.status, 200, JSON.stringify(accepted[index]!.body));
      assert.equal(accepted[index]!.body.ownerId, OWNER);
      // No waiting: the answer came after the audit rows were committed.
      assert.deepEqual((await typesOf(leadId)).slice(0, 3), ['received', 'routed', 'accepted'], leadId);
    }
  });

  test('a rep who does not own the lead is refused with 403, and nothing is recorded', async () => {
    const leadId = uniqueId('L-own');
    await intake(leadId);
    const intruder = await step(leadId, 'accept', {}, { as: OTHER_REP });
    assert.equal(intruder.status, 403, JSON.stringify(intruder.body));
    assert.match(intruder.body.message, new RegExp(`owned by ${OWNER}`));
    assert.deepEqual(await typesOf(leadId), ['received', 'routed']);
    assert.equal((await step(leadId, 'accept', {})).status, 200, 'its owner may');
  });

  test('a step retried with the same Idempotency-Key applies once and answers with the first answer', async () => {
    const leadId = uniqueId('L-retry');
    await intake(leadId);
    assert.equal((await step(leadId, 'accept', {})).status, 200);
    const outcomes = ['no-answer', 'left-voicemail', 'no-answer', 'no-answer', 'no-answer', 'left-voicemail'];
    for (const [index, outcome] of outcomes.entries()) {
      const key = `attempt-${leadId}-${index}`;
      // The first try and two retries at once (a client that timed out), then two more after it answered.
      const concurrent = await Promise.all([0, 1, 2].map(() => step(leadId, 'contact-attempts', { channel: 'phone', outcome }, { key })));
      const later = [await step(leadId, 'contact-attempts', { channel: 'phone', outcome }, { key }), await step(leadId, 'contact-attempts', { channel: 'phone', outcome }, { key })];
      for (const response of [...concurrent, ...later]) {
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.equal(response.body.attempts.length, index + 1, 'every retry answers with the state the first try left');
        assert.equal(response.headers.get('idempotency-key'), key);
      }
    }
    const attempts = (await typesOf(leadId)).filter((type) => type === 'contact-attempted');
    assert.equal(attempts.length, outcomes.length, '6 intended attempts are 6 audit rows');

    const reused = await step(leadId, 'contact-attempts', { channel: 'email', outcome: 'replied' }, { key: `attempt-${leadId}-0` });
    assert.equal(reused.status, 422, JSON.stringify(reused.body));
    assert.equal(reused.body.error, 'idempotency-key-reused');
    const otherStep = await step(leadId, 'reject', { reason: 'no-budget' }, { key: `attempt-${leadId}-1` });
    assert.equal(otherStep.status, 422, 'a key names one request, not one per route');
    assert.equal((await typesOf(leadId)).filter((type) => type === 'contact-attempted').length, outcomes.length);
  });

  test('a step without a key gets a generated one back, and retrying with it applies once', async () => {
    const leadId = uniqueId('L-nokey');
    await intake(leadId);
    const first = await step(leadId, 'accept', {});
    const key = first.headers.get('idempotency-key');
    assert.ok(key, 'the answer names the key it used');
    const retried = await step(leadId, 'accept', {}, { key: key! });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal((await typesOf(leadId)).filter((type) => type === 'accepted').length, 1);
  });

  test('a retried step applies once across continue-as-new, and a retried close once the workflow is gone', async () => {
    const leadId = uniqueId('L-cycle');
    await intake(leadId);
    const key = `reject-${leadId}`;
    const rejected = await step(leadId, 'reject', { reason: 'too-early' }, { key });
    assert.equal(rejected.status, 200);
    // The rejection ended the run; the retry reaches the next run, which remembers the key.
    await eventually(
      () => service.temporal.client.workflow.count(`WorkflowId = "${leadWorkflowId(leadId)}" AND ExecutionStatus = "ContinuedAsNew"`),
      (count) => count.count === 1,
      'the run to continue as new',
    );
    const retried = await step(leadId, 'reject', { reason: 'too-early' }, { key });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.stage, 'NURTURE');
    assert.equal((await typesOf(leadId)).filter((type) => type === 'returned-to-nurture').length, 1);

    // Back to MQL, through to a win, then the close retried after the workflow completed.
    assert.equal((await step(leadId, 'engagement', { behavior: 10 }, { role: 'ops' })).status, 200);
    await eventually(() => service.request('GET', `/leads/${leadId}`), (r) => r.body.stage === 'MQL' && r.body.ownerId === OWNER, 'the lead back as an MQL');
    for (const [path, body] of [
      ['accept', {}],
      ['contact-attempts', { channel: 'phone', outcome: 'connected' }],
      ['qualify', { need: true, budget: true, timing: true }],
    ] as const) {
      assert.equal((await step(leadId, path, body)).status, 200, path);
    }
    const closeKey = `close-${leadId}`;
    assert.equal((await step(leadId, 'close', { outcome: 'won' }, { key: closeKey })).status, 200);
    await service.temporal.client.workflow.getHandle(leadWorkflowId(leadId)).result();
    const retriedClose = await step(leadId, 'close', { outcome: 'won' }, { key: closeKey });
    assert.equal(retriedClose.status, 200, JSON.stringify(retriedClose.body));
    assert.equal(retriedClose.body.stage, 'WON');
    assert.equal((await typesOf(leadId)).filter((type) => type === 'closed').length, 1);

    const afterClose = await step(leadId, 'reject', { reason: 'no-budget' });
    assert.equal(afterClose.status, 409, JSON.stringify(afterClose.body));
    assert.equal(afterClose.body.error, 'closed');
    assert.match(afterClose.body.message, /closed \(stage WON\)/);
  });

  test('a reassignment racing a rejection: one of them applies, never a reassigned lead in nurture', async () => {
    for (let round = 0; round < 3; round += 1) {
      const leadId = uniqueId('L-race');
      await intake(leadId);
      await eventually(() => ownerNow(leadId), (owner) => owner === OWNER, 'routing');
      const [reassign, reject] = await Promise.all([
        step(leadId, 'reassign', { toRepId: OTHER_REP, reason: 'balance the load' }, { role: 'manager' }),
        step(leadId, 'reject', { reason: 'wrong-icp' }),
      ]);
      const types = await typesOf(leadId);
      if (reassign.status === 200) {
        assert.equal(reject.status, 403, 'once reassigned, the lead is no longer the first rep\'s to reject');
        assert.deepEqual(types.slice(2), ['reassigned']);
      } else {
        assert.equal(reassign.status, 409, JSON.stringify(reassign.body));
        assert.equal(reject.status, 200);
        assert.deepEqual(types.slice(2), ['returned-to-nurture']);
      }
      // Notifications go out after the step's audit commits; the assignment one is sent before any later step's.
      const sentOf = (type: string) =>
        service.database.db
          .select({ type: notifications.type })
          .from(notifications)
          .where(and(eq(notifications.subjectId, leadWorkflowId(leadId)), eq(notifications.type, type)));
      await eventually(() => sentOf('lead.assigned'), (rows) => rows.length === 1, 'the assignment notification');
      const expected = types.includes('reassigned') ? 1 : 0;
      await eventually(() => sentOf('lead.reassigned'), (rows) => rows.length === expected, 'a reassignment notification only for a reassignment that happened');
    }
  });

  test('a dossier posted a moment after the deal is taken in reaches the CS owner drawn for it', async () => {
    const dealId = uniqueId('D-fast');
    const now = new Date().toISOString();
    const taken = await service.request('POST', '/deals', {
      body: { dealId, accountName: 'Acme', amount: 48_000, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId: SALES_OWNER },
    });
    assert.equal(taken.status, 201, JSON.stringify(taken.body));
    const delivered = await service.request('POST', `/deals/${dealId}/dossier`, { as: SALES_OWNER, body: completeDossier });
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    assert.equal(delivered.body.csOwnerId, CS_OWNER);
    const received = await eventually(
      () =>
        service.database.db
          .select({ recipients: notifications.recipients })
          .from(notifications)
          .where(and(eq(notifications.subjectId, dealWorkflowId(dealId)), eq(notifications.type, 'deal.dossier-received'))),
      (rows) => rows.length > 0,
      'the dossier notification',
    );
    assert.deepEqual(received[0]!.recipients, [CS_OWNER]);
    const intruder = await service.request('POST', `/deals/${dealId}/kickoff`, { role: 'cs', as: 'cs-bartek', body: { heldAt: now, attendees: ['Jan'] } });
    assert.equal(intruder.status, 403, 'only the deal\'s CS owner records its kickoff');
  });

  test('a step the database cannot store is refused, recorded as refused, and the lead stays answerable', async () => {
    const leadId = uniqueId('L-unstorable');
    await intake(leadId);
    await eventually(() => ownerNow(leadId), (owner) => owner === OWNER, 'routing');
    // Straight to the workflow, past the API's schema: a fractional score the integer column refuses.
    const handle = service.temporal.client.workflow.getHandle(leadWorkflowId(leadId));
    await assert.rejects(
      handle.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'integration', role: 'ops', behavior: 0.5 }] }),
      (error: unknown) => error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === STEP_NOT_RECORDED,
    );
    const state = await service.request('GET', `/leads/${leadId}`);
    assert.equal(state.status, 200);
    assert.equal(state.body.score.behavior, 10, 'the refused step changed nothing');
    assert.deepEqual(await typesOf(leadId), ['received', 'routed', 'step-not-recorded']);
    assert.equal(state.body.lastEventSeq, 3);
    const accepted = await step(leadId, 'accept', {});
    assert.equal(accepted.status, 200, 'later steps still apply');
    assert.deepEqual((await typesOf(leadId)).slice(-1), ['accepted']);
  });
});

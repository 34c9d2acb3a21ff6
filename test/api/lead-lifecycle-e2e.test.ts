import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { secondsScalePolicy } from '../support/policies.js';
import { eventually, intakeRoutedLead, runEscalatedLead, runStandardLead, seedInboundQueue } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

describe('whole lead lifecycles through the API on a dev server, seconds-scale policy', () => {
  let service: RunningService;
  before(async () => {
    service = await startService(secondsScalePolicy());
    await seedInboundQueue(service);
  });
  after(async () => {
    await service?.stop();
  });

  const eventTypes = async (leadId: string) =>
    (await service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' })).body.events.map((event: { type: string }) => event.type);

  test('the standard lead: MQL → SAL → five attempts → SQL → won, and the workflow completes', async () => {
    const leadId = uniqueId('std');
    await runStandardLead(service, leadId);
    const types = await eventTypes(leadId);
    assert.deepEqual(types.filter((type: string) => type === 'contact-attempted').length, 5);
    assert.equal(types.at(-1), 'closed');
    const result = await service.temporal.client.workflow.getHandle(`lead-${leadId}`).result();
    assert.equal(result.stage, 'WON');
  });

  test('a lead closed as won with a deal starts the deal handoff, and each side shows the other', async () => {
    const leadId = uniqueId('won');
    const dealId = uniqueId('D');
    const owner = await intakeRoutedLead(service, leadId, 2);
    for (const [path, body] of [
      ['accept', {}],
      ['contact-attempts', { channel: 'phone', outcome: 'connected' }],
      ['qualify', { need: true, budget: true, timing: true }],
      ['close', { outcome: 'won', deal: { dealId, amount: 48_000, currency: 'EUR', signedAt: new Date().toISOString() } }],
    ] as const) {
      const response = await service.request('POST', `/leads/${leadId}/${path}`, { as: owner, body });
      assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
    }
    const deal = await eventually(() => service.request('GET', `/deals/${dealId}`, { role: 'cs' }), (r) => r.status === 200, 'the deal workflow');
    assert.equal(deal.body.leadId, leadId);
    assert.equal(deal.body.salesOwnerId, owner);
    assert.equal(deal.body.accountName, `Company ${leadId}`);
    const types = await eventTypes(leadId);
    assert.deepEqual(types.slice(-2), ['closed', 'deal-started']);

    const lostWithDeal = await service.request('POST', `/leads/${leadId}/close`, {
      as: owner,
      body: { outcome: 'lost', deal: { dealId, amount: 1, currency: 'EUR', signedAt: new Date().toISOString() } },
    });
    assert.equal(lostWithDeal.status, 400, 'only a won lead becomes a deal');
  });

  test('a won lead whose deal is already open links to it instead of starting a second one', async () => {
    const leadId = uniqueId('won');
    const dealId = uniqueId('D');
    const signedAt = new Date().toISOString();
    const intake = await service.request('POST', '/deals', {
      body: { dealId, accountName: 'Acme', amount: 10_000, currency: 'EUR', signedAt, closedWonAt: signedAt, salesOwnerId: 'rep-anna' },
    });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const owner = await intakeRoutedLead(service, leadId, 2);
    for (const [path, body] of [
      ['accept', {}],
      ['contact-attempts', { channel: 'email', outcome: 'replied' }],
      ['qualify', { need: true, budget: true, timing: true }],
      ['close', { outcome: 'won', deal: { dealId, amount: 10_000, currency: 'EUR', signedAt } }],
    ] as const) {
      assert.equal((await service.request('POST', `/leads/${leadId}/${path}`, { as: owner, body })).status, 200, path);
    }
    assert.equal((await eventTypes(leadId)).at(-1), 'deal-linked');
    const runs = await service.temporal.client.workflow.count(`WorkflowId = "deal-${dealId}"`);
    assert.equal(runs.count, 1, 'one deal workflow, never a second');
  });

  test('a missed Tier 1 deadline escalates: reminder, manager alert, reassignment with a fresh deadline', async () => {
    const leadId = uniqueId('esc');
    await runEscalatedLead(service, leadId);
    const timeline = (await service.request('GET', `/leads/${leadId}/timeline`, { role: 'manager' })).body.events;
    const escalations = timeline.filter((event: { type: string }) => event.type === 'escalated');
    assert.deepEqual(
      escalations.map((event: { payload: { level: number; action: string } }) => [event.payload.level, event.payload.action]),
      [
        [1, 'remind-owner'],
        [2, 'alert-manager'],
        [3, 'reassign'],
      ],
    );
    const breach = timeline.find((event: { type: string }) => event.type === 'sla-breached');
    assert.ok(breach, 'the breach is recorded');
    assert.ok(new Date(breach.at) >= new Date(breach.payload.dueAt), 'a breach is never recorded before its deadline');
    const reassign = escalations[2].payload;
    assert.notEqual(reassign.from, reassign.to);
    assert.ok(reassign.freshDueAt > reassign.dueAt);
  });
});

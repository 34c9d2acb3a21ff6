import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { secondsScalePolicy } from '../support/policies.js';
import { runEscalatedLead, runStandardLead, seedInboundQueue } from '../support/scenarios.js';
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

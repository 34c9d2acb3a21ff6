import assert from 'node:assert/strict';
import type { RunningService } from './service.js';
import type { Dossier } from '../../domain/deal-dossier.js';

/** Lifecycles driven through the HTTP API exactly as sales and ops would, shared by e2e tests and history recording. */

/** A dossier that passes every rule: a goal, a scope, a KPI with a target, an economic buyer and a champion. */
export const completeDossier: Dossier = {
  businessGoals: ['Cut first-response time'],
  scope: 'Helpdesk for 3 teams',
  kpis: [{ name: 'FRT', metric: 'median first-response time', target: 2, unit: 'hours' }],
  stakeholders: [
    { name: 'Ewa', role: 'economic-buyer' },
    { name: 'Jan', role: 'champion' },
  ],
  risks: [],
};

export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function seedInboundQueue(service: RunningService, repIds = ['rep-anna', 'rep-bartek']): Promise<void> {
  for (const repId of repIds) {
    const created = await service.request('POST', '/reps', { role: 'ops', body: { repId, name: repId, seniority: 'senior', managerId: 'mgr-ola' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  const queue = await service.request('POST', '/queues', {
    role: 'ops',
    body: { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'mgr-ola', members: repIds },
  });
  assert.equal(queue.status, 201, JSON.stringify(queue.body));
}

/** CS reps and the policy's CS queue, so each deal draws a CS owner. */
export async function seedCsQueue(service: RunningService, queueId: string, repIds = ['cs-rep-1', 'cs-rep-2']): Promise<void> {
  for (const repId of repIds) {
    const created = await service.request('POST', '/reps', { role: 'ops', body: { repId, name: repId, seniority: 'senior', managerId: 'mgr-cs' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  const queue = await service.request('POST', '/queues', {
    role: 'ops',
    body: { queueId, name: 'Customer success', strategy: 'round-robin', managerId: 'mgr-cs', members: repIds },
  });
  assert.equal(queue.status, 201, JSON.stringify(queue.body));
}

export async function ownerOf(service: RunningService, leadId: string): Promise<string> {
  const lead = await service.request('GET', `/leads/${leadId}`, { role: 'ops' });
  assert.equal(lead.status, 200, JSON.stringify(lead.body));
  assert.ok(lead.body.ownerId, `lead ${leadId} has no owner`);
  return lead.body.ownerId as string;
}

/**
 * Waits for an audit event on the timeline (Postgres), as a client would: polling the live state instead is a
 * workflow query each time, which Temporal bills, and the cost benchmark drives these scenarios.
 */
export async function auditEvent(
  service: RunningService,
  leadId: string,
  accept: (event: { type: string; payload: Record<string, any> }) => boolean,
  what: string,
): Promise<{ type: string; payload: Record<string, any> }> {
  const timeline = await eventually(
    () => service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' }),
    (r) => r.status === 200 && r.body.events.some(accept),
    what,
  );
  return timeline.body.events.find(accept);
}

/** `profile` replaces the generated e-mail and company (tests that look for personal data in logs choose their own). */
export async function intakeRoutedLead(
  service: RunningService,
  leadId: string,
  icpTier: 1 | 2 | 3 = 1,
  profile: { email?: string; company?: string } = {},
): Promise<string> {
  const intake = await service.request('POST', '/leads', {
    body: { leadId, email: `${leadId.toLowerCase()}@example.com`, company: `Company ${leadId}`, ...profile, icpTier, score: { fit: 30, behavior: 10, intent: 5 } },
  });
  assert.equal(intake.status, 201, JSON.stringify(intake.body));
  const routed = await auditEvent(service, leadId, (event) => event.type === 'routed', 'routing');
  return routed.payload.repId as string;
}

/** Acts as a rep would: a sales step is taken by the lead's current owner, as the last answer named them. */
async function step(service: RunningService, leadId: string, path: string, body: object, as: string) {
  const response = await service.request('POST', `/leads/${leadId}/${path}`, { role: 'sales', as, body });
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** The standard lead: MQL → SAL → five attempts (the fifth connects) → SQL → won. */
export async function runStandardLead(service: RunningService, leadId: string): Promise<void> {
  let owner = await intakeRoutedLead(service, leadId);
  owner = (await step(service, leadId, 'accept', {}, owner)).ownerId;
  const outcomes = ['no-answer', 'left-voicemail', 'no-answer', 'no-answer', 'connected'] as const;
  const channels = ['phone', 'email', 'linkedin', 'phone', 'email'] as const;
  for (let i = 0; i < 5; i += 1) owner = (await step(service, leadId, 'contact-attempts', { channel: channels[i], outcome: outcomes[i] }, owner)).ownerId;
  owner = (await step(service, leadId, 'qualify', { need: true, budget: true, timing: true }, owner)).ownerId;
  await step(service, leadId, 'close', { outcome: 'won' }, owner);
}

/**
 * On the seconds-scale policy: nobody answers the Tier 1 lead, so it escalates through reminder, manager
 * alert and reassignment; the new owner then works it through the cadence to SQL and a win.
 */
export async function runEscalatedLead(service: RunningService, leadId: string, profile: { email?: string; company?: string } = {}): Promise<void> {
  const firstOwner = await intakeRoutedLead(service, leadId, 1, profile);
  // The new owner as the audit names them, as the reassigned rep's notification does: no billed query.
  const reassigned = await auditEvent(service, leadId, (event) => event.type === 'escalated' && event.payload.action === 'reassign', 'the escalation to reassign the lead');
  assert.equal(reassigned.payload.level, 3);
  let owner: string = reassigned.payload.to;
  assert.notEqual(owner, firstOwner, 'the escalation reassigned the lead');
  owner = (await step(service, leadId, 'accept', {}, owner)).ownerId;
  owner = (await step(service, leadId, 'contact-attempts', { channel: 'phone', outcome: 'no-answer' }, owner)).ownerId;
  await auditEvent(service, leadId, (event) => event.type === 'cadence-reminder' && event.payload.attempt >= 2, 'the reminder for the second attempt');
  owner = (await step(service, leadId, 'contact-attempts', { channel: 'email', outcome: 'replied' }, owner)).ownerId;
  owner = (await step(service, leadId, 'qualify', { need: true, budget: true, timing: true }, owner)).ownerId;
  await step(service, leadId, 'close', { outcome: 'won' }, owner);
}

// Records real histories for the replay tests: runs each scenario through the API on a dev server and
// writes every run of each workflow to CURRENT_HISTORY_FOLDER (test/support/histories.ts) (test/histories/legacy/ keeps the
// histories of runs from before the step engine, which replay through workflows/legacy/; the top level those
// of the step engine before 'one-task-step'; each other folder is named after the patch its histories predate the next of). After a deliberate, patched() workflow change, point
// CURRENT_HISTORY_FOLDER at a new folder named after the patch and run:
//   npx tsx scripts/record-histories.ts          (every scenario)
//   npx tsx scripts/record-histories.ts deal     (only the deal scenarios; `lead` for only the lead ones)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import type { Payload, PayloadCodec } from '@temporalio/common';
import assert from 'node:assert/strict';
import { authenticate } from '../api/auth.js';
import { dealRoutes } from '../api/deals.js';
import type { Policy } from '../domain/policy.js';
import { CURRENT_HISTORY_FOLDER } from '../test/support/histories.js';
import { secondsScalePolicy } from '../test/support/policies.js';
import { eventually, intakeRoutedLead, runEscalatedLead, runStandardLead, seedInboundQueue } from '../test/support/scenarios.js';
import { startService, testApiKeys, type RunningService } from '../test/support/service.js';

/** The histories of the current workflow code; existing files are never overwritten (old histories must keep replaying). */
const directory = CURRENT_HISTORY_FOLDER;

const ENCRYPTED = new TextEncoder().encode('binary/encrypted');
const isEncryptedPayload = (value: any): value is Payload =>
  value?.metadata?.encoding instanceof Uint8Array && Buffer.from(value.metadata.encoding).equals(Buffer.from(ENCRYPTED));

/**
 * The history with every encrypted payload decoded: a recording must replay long after the service's record
 * keys are gone, so it keeps the plain payloads the workflow code saw (the codec sits outside the workflow).
 */
async function decrypted(history: History, codec: PayloadCodec): Promise<History> {
  const visit = async (node: any): Promise<void> => {
    if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return;
    for (const [key, value] of Object.entries(node)) {
      if (isEncryptedPayload(value)) node[key] = (await codec.decode([value]))[0];
      else if (Array.isArray(value)) {
        for (const [index, item] of value.entries()) {
          if (isEncryptedPayload(item)) value[index] = (await codec.decode([item]))[0];
          else await visit(item);
        }
      } else await visit(value);
    }
  };
  await visit(history);
  return history;
}

async function saveAllRuns(service: RunningService, workflowId: string, name: string): Promise<void> {
  const client = service.temporal.client;
  const runs: Array<{ runId: string; startTime: Date }> = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(execution);
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  for (const [index, { runId }] of runs.entries()) {
    const history = await decrypted(await client.workflow.getHandle(workflowId, runId).fetchHistory(), service.protection.codecServerCodec);
    const file = new URL(`${name}${index === 0 ? '' : `.run${index + 1}`}.json`, directory);
    if (existsSync(file)) throw new Error(`${file.pathname} exists: record into a new CURRENT_HISTORY_FOLDER instead of overwriting a history that must keep replaying`);
    writeFileSync(file, historyToJSON(history) + '\n');
    console.log(`wrote ${file.pathname} (${history.events?.length} events)`);
  }
}

// ---- deals (seconds-scale policy: dossier 4 s, kickoff 6 s, QBR 12 s with a reminder 4 s ahead) ----------

/** Mounts /deals the way api/app.ts mounts a resource, for as long as the app does not do it itself. */
function ensureDealRoutes(service: RunningService, policy: Policy): void {
  if (service.app.routes.some((route) => route.path.startsWith('/deals'))) return;
  const authenticated = authenticate(testApiKeys);
  service.app.use('/deals', authenticated).use('/deals/*', authenticated);
  service.app.route('/deals', dealRoutes({ client: service.temporal.client, db: service.database.db, currentPolicy: async () => policy }));
}

async function seedCsQueue(service: RunningService, queueId: string): Promise<void> {
  for (const repId of ['cs-ewa', 'cs-filip']) {
    const created = await service.request('POST', '/reps', { role: 'ops', body: { repId, name: repId, seniority: 'senior', managerId: 'mgr-cs' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  const queue = await service.request('POST', '/queues', {
    role: 'ops',
    body: { queueId, name: 'Customer success', strategy: 'round-robin', managerId: 'mgr-cs', members: ['cs-ewa', 'cs-filip'] },
  });
  assert.equal(queue.status, 201, JSON.stringify(queue.body));
}

const dealDossier = {
  businessGoals: ['Cut first-response time'],
  scope: 'Helpdesk for 3 teams; SSO; CRM sync',
  kpis: [{ name: 'FRT', metric: 'median first-response time', target: 2, unit: 'hours' }],
  stakeholders: [
    { name: 'Ewa', role: 'economic-buyer' },
    { name: 'Jan', role: 'champion' },
    { name: 'Piotr', role: 'it-contact' },
  ],
  risks: [{ description: 'SSO tenant owned by the parent company', severity: 'high' }],
};

/** Acts as the deal's owner would: the dossier is its sales owner's, the meetings its CS owner's. */
async function dealStep(service: RunningService, dealId: string, path: string, body: object, role: 'sales' | 'cs'): Promise<void> {
  const deal = (await service.request('GET', `/deals/${dealId}`, { role: 'ops' })).body;
  const as = role === 'sales' ? deal.salesOwnerId : deal.csOwnerId;
  const response = await service.request('POST', `/deals/${dealId}/${path}`, { role, as, body });
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
}

const hasEvent = (service: RunningService, dealId: string, accept: (event: { type: string; payload: Record<string, unknown> }) => boolean, what: string) =>
  eventually(
    () => service.request('GET', `/deals/${dealId}/timeline`, { role: 'cs' }),
    (r) => r.status === 200 && r.body.events.some(accept),
    what,
  );

async function intakeDeal(service: RunningService, dealId: string, salesOwnerId: string): Promise<void> {
  const now = new Date().toISOString();
  const intake = await service.request('POST', '/deals', {
    body: { dealId, accountName: `Account ${dealId}`, amount: 48000, currency: 'PLN', signedAt: now, closedWonAt: now, salesOwnerId },
  });
  assert.equal(intake.status, 201, JSON.stringify(intake.body));
  await eventually(() => service.request('GET', `/deals/${dealId}`), (r) => r.body.csOwnerId !== null, 'the CS owner');
}

/** On time: CS owner from the queue, dossier, kickoff, the QBR reminder, the QBR; the workflow completes. */
async function runStandardDeal(service: RunningService, dealId: string): Promise<void> {
  await intakeDeal(service, dealId, 'rep-anna');
  await dealStep(service, dealId, 'dossier', dealDossier, 'sales');
  await dealStep(service, dealId, 'kickoff', { heldAt: new Date().toISOString(), attendees: ['Jan'] }, 'cs');
  await hasEvent(service, dealId, (event) => event.type === 'milestone-reminder', 'the QBR reminder');
  await dealStep(service, dealId, 'qbr', { heldAt: new Date().toISOString(), healthScore: 85 }, 'cs');
  await service.temporal.client.workflow.getHandle(`deal-${dealId}`).result();
}

/** The dossier is late: breach, reminder to the sales owner, alert to the sales manager; then the handoff completes. */
async function runEscalatedDeal(service: RunningService, dealId: string): Promise<void> {
  await intakeDeal(service, dealId, 'rep-bartek');
  await hasEvent(service, dealId, (event) => event.type === 'escalated' && event.payload.action === 'alert-manager', 'the dossier escalation to the manager');
  await dealStep(service, dealId, 'dossier', dealDossier, 'sales');
  await dealStep(service, dealId, 'kickoff', { heldAt: new Date().toISOString(), attendees: ['Jan'] }, 'cs');
  await dealStep(service, dealId, 'qbr', { heldAt: new Date().toISOString(), healthScore: 60 }, 'cs');
  await service.temporal.client.workflow.getHandle(`deal-${dealId}`).result();
}

/**
 * Steps that meet in the step engine's gate: an ops engagement and the owner's acceptance sent at once, the
 * acceptance retried with its Idempotency-Key while the first try runs, then a rejection back to nurture
 * (continue-as-new) retried on the next run.
 */
async function runBurstLead(service: RunningService, leadId: string): Promise<void> {
  const owner = await intakeRoutedLead(service, leadId, 2);
  const accept = () => service.request('POST', `/leads/${leadId}/accept`, { as: owner, body: {}, headers: { 'idempotency-key': `accept-${leadId}` } });
  const [first, retried, engaged] = await Promise.all([
    accept(),
    accept(),
    service.request('POST', `/leads/${leadId}/engagement`, { role: 'ops', body: { signal: 'webinar' } }),
  ]);
  for (const response of [first, retried, engaged]) assert.equal(response.status, 200, JSON.stringify(response.body));
  const reject = () => service.request('POST', `/leads/${leadId}/reject`, { as: owner, body: { reason: 'too-early' }, headers: { 'idempotency-key': `reject-${leadId}` } });
  assert.equal((await reject()).status, 200);
  await eventually(
    () => service.temporal.client.workflow.count(`WorkflowId = "lead-${leadId}" AND ExecutionStatus = "ContinuedAsNew"`),
    (count) => count.count === 1,
    'the return to nurture to continue as new',
  );
  assert.equal((await reject()).status, 200);
  assert.equal((await service.request('POST', `/leads/${leadId}/engagement`, { role: 'ops', body: { negative: 40 } })).status, 200);
}

/**
 * The seed rules of issue 14 on one lead: intake without a company and with an invalid e-mail (flagged), a
 * rejection, re-engagement back to MQL with the same rep (patched 'nurture-keeps-owner'), then SQL with a next
 * step and an opportunity, left alone until the weekly (here 20 s) hygiene check reminds the owner; closed lost.
 */
async function runRulesLead(service: RunningService, leadId: string): Promise<void> {
  const intake = await service.request('POST', '/leads', { body: { leadId, email: 'not-an-address', icpTier: 2, score: { fit: 35, behavior: 10, intent: 10 } } });
  assert.equal(intake.status, 201, JSON.stringify(intake.body));
  const routed = await eventually(() => service.request('GET', `/leads/${leadId}`), (r) => r.body.ownerId !== null, 'routing');
  const owner = routed.body.ownerId as string;
  const as = (path: string, body: object) => service.request('POST', `/leads/${leadId}/${path}`, { as: owner, body });
  const ok = async (response: Promise<{ status: number; body: any }>) => {
    const answer = await response;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body;
  };
  await ok(as('reject', { reason: 'too-early' }));
  await eventually(
    () => service.temporal.client.workflow.count(`WorkflowId = "lead-${leadId}" AND ExecutionStatus = "ContinuedAsNew"`),
    (count) => count.count === 1,
    'the return to nurture to continue as new',
  );
  const back = await ok(service.request('POST', `/leads/${leadId}/engagement`, { role: 'ops', body: { signal: 'email-click' } }));
  assert.deepEqual([back.stage, back.ownerId], ['MQL', owner]);
  await ok(as('accept', {}));
  await ok(as('contact-attempts', { channel: 'phone', outcome: 'connected' }));
  await ok(as('qualify', { need: true, budget: true, timing: true }));
  await ok(as('next-step', { dueAt: new Date(Date.now() + 5_000).toISOString(), type: 'demo' }));
  await ok(as('opportunity', { stage: 'proposal', amount: 24000 }));
  await eventually(
    () => service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' }),
    (r) => r.body.events.some((event: { type: string }) => event.type === 'hygiene-reminder'),
    'the hygiene reminder',
    60_000,
  );
  await ok(as('close', { outcome: 'lost', reason: 'no decision' }));
}

/** A critical incident during the handoff: opened, breached (4 s), escalated to the CS owner and manager, resolved; then closed out. */
async function runIncidentDeal(service: RunningService, dealId: string): Promise<void> {
  await intakeDeal(service, dealId, 'rep-anna');
  const deal = (await service.request('GET', `/deals/${dealId}`, { role: 'ops' })).body;
  const opened = await service.request('POST', `/deals/${dealId}/incidents`, { role: 'cs', as: deal.csOwnerId, body: { severity: 'critical', summary: 'SSO login fails' } });
  assert.equal(opened.status, 200, JSON.stringify(opened.body));
  await hasEvent(service, dealId, (event) => event.type === 'escalated' && event.payload.milestone === 'INC-1' && event.payload.action === 'alert-manager', 'the incident escalation');
  const resolved = await service.request('POST', `/deals/${dealId}/incidents/INC-1/resolve`, { role: 'cs', as: deal.csOwnerId, body: { resolution: 'certificate rotated' } });
  assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
  const closed = await service.request('POST', `/deals/${dealId}/close-out`, { role: 'ops', body: { reason: 'recorded' } });
  assert.equal(closed.status, 200, JSON.stringify(closed.body));
  await service.temporal.client.workflow.getHandle(`deal-${dealId}`).result();
}

/**
 * Scenario groups named on the command line (`lead`, `deal`, `rules`); none named records `lead` and `deal`.
 * Recorded files are never re-recorded: a new scenario gets a group and file names of its own.
 */
const only = process.argv.slice(2);
const wanted = (group: 'lead' | 'deal' | 'rules'): boolean => (only.length === 0 ? group !== 'rules' : only.includes(group));

async function main() {
  mkdirSync(directory, { recursive: true });
  const policy = secondsScalePolicy();
  const service = await startService(policy);
  try {
    ensureDealRoutes(service, policy);
    await seedInboundQueue(service);
    if (wanted('lead')) {
      await runStandardLead(service, 'recorded-standard');
      // Saved once closed, so the history ends with the archive write rather than cutting an activity off.
      await service.temporal.client.workflow.getHandle('lead-recorded-standard').result();
      await saveAllRuns(service, 'lead-recorded-standard', 'lead-standard');
      await runEscalatedLead(service, 'recorded-escalated');
      await service.temporal.client.workflow.getHandle('lead-recorded-escalated').result();
      await saveAllRuns(service, 'lead-recorded-escalated', 'lead-escalated');
      await runBurstLead(service, 'recorded-burst');
      await saveAllRuns(service, 'lead-recorded-burst', 'lead-burst');
    }
    if (wanted('deal')) {
      await seedCsQueue(service, policy.deal!.csQueueId);
      await runStandardDeal(service, 'recorded-standard');
      await saveAllRuns(service, 'deal-recorded-standard', 'deal-standard');
      await runEscalatedDeal(service, 'recorded-escalated');
      await saveAllRuns(service, 'deal-recorded-escalated', 'deal-escalated');
    }
    if (wanted('rules')) {
      await runRulesLead(service, 'recorded-rules');
      await service.temporal.client.workflow.getHandle('lead-recorded-rules').result();
      await saveAllRuns(service, 'lead-recorded-rules', 'lead-rules');
      await seedCsQueue(service, policy.deal!.csQueueId);
      await runIncidentDeal(service, 'recorded-incident');
      await saveAllRuns(service, 'deal-recorded-incident', 'deal-incident');
    }
  } finally {
    await service.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

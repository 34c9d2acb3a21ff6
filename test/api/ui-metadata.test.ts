import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { secondsScalePolicy } from '../support/policies.js';
import { eventually, seedInboundQueue } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/** What the Temporal UI shows of a workflow, read the way it reads it: describe, the metadata query, the history. */
async function uiView(service: RunningService, workflowId: string, runId?: string) {
  const handle = service.temporal.client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  const history = await handle.fetchHistory();
  // The history comes as the server keeps it: encrypted, as the UI gets it before its codec server decodes it.
  // Activities and local activities (markers) alike: the step's writes run as local activities in its own task.
  const encrypted = (history.events ?? [])
    .map((event) => (event.activityTaskScheduledEventAttributes || event.markerRecordedEventAttributes) && event.userMetadata?.summary)
    .filter((payload): payload is Payload => Boolean(payload));
  const activitySummaries = (await service.protection.codecServerCodec.decode(encrypted)).map((payload) => defaultPayloadConverter.fromPayload<string>(payload));
  return {
    description,
    staticSummary: await description.staticSummary(),
    staticDetails: await description.staticDetails(),
    currentDetails: async () => (await handle.query(workflowMetadataQuery)).currentDetails ?? '',
    activitySummaries,
  };
}

describe('what the Temporal UI shows of leads and deals', () => {
  let service: RunningService;
  before(async () => {
    service = await startService(secondsScalePolicy());
    await seedInboundQueue(service);
  });
  after(async () => {
    await service?.stop();
  });

  test('a lead: summary and details from the start, a memo, current details with stage, owner and deadline, activity summaries', async () => {
    const leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', {
      body: { leadId, email: 'ceo@acme.example', company: 'Acme', icpTier: 1, source: 'webinar', score: { fit: 30, behavior: 10, intent: 5 } },
    });
    assert.equal(intake.status, 201);
    const routed = await eventually(() => service.request('GET', `/leads/${leadId}`), (r) => r.body.ownerId !== null, 'routing');
    const owner: string = routed.body.ownerId;
    const accepted = await service.request('POST', `/leads/${leadId}/accept`, { as: owner, body: {} });
    assert.equal(accepted.status, 200);

    const view = await uiView(service, `lead-${leadId}`);
    assert.equal(view.staticSummary, `Acme · Tier 1 · ${leadId}`);
    assert.match(view.staticDetails ?? '', /ICP tier 1/);
    assert.match(view.staticDetails ?? '', /source webinar/);
    assert.deepEqual(view.description.memo, { leadId, company: 'Acme', icpTier: 1, source: 'webinar', policyVersion: secondsScalePolicy().version });
    const details = await view.currentDetails();
    assert.match(details, new RegExp(`Stage \\*\\*SAL\\*\\*.*owner ${owner}`));
    // The soonest of the lead's deadlines: attempt 2 (2 s after acceptance) or the response deadline (3 s after
    // intake), whichever the machine's pace put first.
    const soonest = (accepted.body.deadlines as Array<{ label: string }>)[0]!.label;
    assert.match(soonest, /^(Attempt 2 of 5 due|Tier 1 response deadline)$/);
    assert.ok(details.includes(`Next deadline: ${soonest}`), details);
    assert.ok(!details.includes('ceo@acme.example'), 'no e-mail in the UI');
    // Intake's audit carries its notification (one local activity since engine-2027-01).
    assert.ok(view.activitySummaries.includes(`audit: received, routed; then notify assign → ${owner}`), view.activitySummaries.join(' | '));
    assert.ok(view.activitySummaries.includes('audit: accepted'), view.activitySummaries.join(' | '));
  });

  test('a lead nobody answers: its escalations read as sentences, and the run after its return to nurture says how the cycle ended', async () => {
    const leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', {
      body: { leadId, email: 'cto@globex.example', company: 'Globex', icpTier: 2, score: { fit: 30, behavior: 10, intent: 5 } },
    });
    assert.equal(intake.status, 201);
    const handle = service.temporal.client.workflow.getHandle(`lead-${leadId}`);
    const firstRunId = (await handle.describe()).runId;
    const nurtured = await eventually(() => service.request('GET', `/leads/${leadId}`), (r) => r.body.stage === 'NURTURE', 'the return to nurture', 60_000);
    assert.equal(nurtured.body.nurtureReason, 'sla-expired');

    const firstRun = await uiView(service, `lead-${leadId}`, firstRunId);
    assert.ok(firstRun.activitySummaries.includes('audit: escalated; then notify alert manager → mgr-ola'), firstRun.activitySummaries.join(' | '));
    assert.ok(firstRun.activitySummaries.some((summary) => summary.startsWith('audit: sla-breached, escalated; then notify remind owner → ')));

    const secondRun = await eventually(() => handle.describe(), (d) => d.runId !== firstRunId, 'the next run');
    assert.deepEqual(secondRun.memo?.leadId, leadId, 'the memo carries over to the next run');
    const details = await eventually(
      async () => (await handle.query(workflowMetadataQuery)).currentDetails ?? '',
      (text) => text.includes('earlier cycles'),
      'details of the new run',
    );
    assert.match(details, /^\*\*Globex · Tier 2 · /);
    assert.match(details, /Stage \*\*NURTURE\*\*/);
    assert.match(details, /cycle 1: MQL → NURTURE \(sla-expired\) .*escalated to level 4/);
  });

  test('a deal: "Deal D-7 · Acme · 48,000 EUR", and its details name the CS owner and the next milestone', async () => {
    const dealId = uniqueId('D');
    const signedAt = new Date().toISOString();
    const intake = await service.request('POST', '/deals', {
      role: 'ops',
      body: { dealId, accountName: 'Acme', amount: 48_000, currency: 'EUR', signedAt, closedWonAt: signedAt, salesOwnerId: 'rep-anna', csOwnerId: 'cs-eva' },
    });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const view = await uiView(service, `deal-${dealId}`);
    assert.equal(view.staticSummary, `Deal ${dealId} · Acme · 48,000 EUR`);
    assert.match(view.staticDetails ?? '', /Sold by rep-anna/);
    assert.equal(view.description.memo?.amount, 48_000);
    const details = await eventually(view.currentDetails, (text) => text.includes('CS owner cs-eva'), 'the deal details');
    assert.match(details, /Next deadline: Dossier/);
  });
});

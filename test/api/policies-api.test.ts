import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Policy } from '../../domain/policy.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/** Total 15: cold under the default MQL threshold of 40, MQL under a threshold of 10. */
const coldScore = { fit: 10, behavior: 5, intent: 0 };

function intakeBody(leadId: string) {
  return { leadId, email: `${leadId.toLowerCase()}@example.com`, company: 'Acme', icpTier: 2, score: coldScore };
}

/** The always-open rules under a fresh version, with `changes` applied. */
function policyDocument(changes: (policy: Policy) => void = () => {}): Policy {
  const policy = alwaysOpenPolicy(uniqueId('policy'));
  changes(policy);
  return policy;
}

describe('policy API on a real Temporal dev server and Postgres', () => {
  const startVersion = 'test-always-open';
  let service: RunningService;
  before(async () => {
    service = await startService(alwaysOpenPolicy(startVersion));
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

  async function intake(leadId: string): Promise<{ status: number; body: any }> {
    const response = await service.request('POST', '/leads', { body: intakeBody(leadId) });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response;
  }

  test('ops publishes a version; list (newest first) and get show it with its author and note', async () => {
    const policy = policyDocument((p) => (p.scoring.hotThreshold = 75));
    const published = await service.request('POST', '/policies', { role: 'ops', body: { note: 'hot threshold to 75', policy } });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal(published.body.version, policy.version);
    assert.equal(published.body.author, 'ops-actor');
    assert.equal(published.body.note, 'hot threshold to 75');
    assert.ok(!Number.isNaN(Date.parse(published.body.createdAt)));

    const list = await service.request('GET', '/policies', { role: 'manager' });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.current, policy.version);
    const versions = list.body.policies.map((row: { version: string }) => row.version);
    assert.equal(versions[0], policy.version, 'newest first');
    assert.ok(versions.indexOf(startVersion) > 0, 'the version the service started under is listed after it');
    assert.deepEqual(list.body.policies[0], { version: policy.version, author: 'ops-actor', note: 'hot threshold to 75', createdAt: published.body.createdAt });
    assert.equal(list.body.policies.find((row: { version: string }) => row.version === startVersion).author, 'test');

    const one = await service.request('GET', `/policies/${encodeURIComponent(policy.version)}`, { role: 'ops' });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.author, 'ops-actor');
    assert.deepEqual(one.body.policy, JSON.parse(JSON.stringify(policy)), 'the document as published');

    const missing = await service.request('GET', '/policies/no-such-version', { role: 'ops' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'not-found');
  });

  test('only ops may publish; sales may not read the changelog', async () => {
    const policy = policyDocument();
    for (const role of ['sales', 'manager', 'cs'] as const) {
      const refused = await service.request('POST', '/policies', { role, body: { note: 'not mine to change', policy } });
      assert.equal(refused.status, 403, `${role}: ${JSON.stringify(refused.body)}`);
    }
    assert.equal((await service.request('POST', '/policies', { role: null, body: { note: 'anonymous', policy } })).status, 401);
    assert.equal((await service.request('GET', '/policies', { role: 'sales' })).status, 403);
    assert.equal((await service.request('GET', `/policies/${startVersion}`, { role: 'sales' })).status, 403);
    assert.equal((await service.request('GET', `/policies/${policy.version}`, { role: 'ops' })).status, 404, 'nothing was published');
  });

  test('an invalid policy is refused with 400 naming each path, and nothing is stored', async () => {
    const policy = policyDocument((p) => {
      p.scoring.hotThreshold = 10;
      p.defaultCalendarId = 'nowhere';
    });
    const refused = await service.request('POST', '/policies', { role: 'ops', body: { note: 'broken', policy } });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid-request');
    const paths = refused.body.issues.map((issue: { path: string }) => issue.path);
    assert.ok(paths.includes('policy.scoring.hotThreshold'), paths.join(', '));
    assert.ok(paths.includes('policy.defaultCalendarId'), paths.join(', '));
    assert.match(refused.body.message, /scoring\.hotThreshold: must be at or above mqlThreshold/);
    assert.equal((await service.request('GET', `/policies/${policy.version}`, { role: 'ops' })).status, 404);

    const noNote = await service.request('POST', '/policies', { role: 'ops', body: { policy: policyDocument() } });
    assert.equal(noNote.status, 400);
    assert.deepEqual(noNote.body.issues.map((issue: { path: string }) => issue.path), ['note']);

    const noVersion = await service.request('POST', '/policies', { role: 'ops', body: { note: 'no version', policy: { scoring: {} } } });
    assert.equal(noVersion.status, 400);
    assert.ok(noVersion.body.issues.some((issue: { path: string }) => issue.path === 'policy.version'), JSON.stringify(noVersion.body));
  });

  test('a version that exists already is refused with 409 and the stored document stays', async () => {
    const policy = policyDocument();
    assert.equal((await service.request('POST', '/policies', { role: 'ops', body: { note: 'first', policy } })).status, 201);
    const changed = { ...policy, scoring: { ...policy.scoring, mqlThreshold: 20 } };
    const again = await service.request('POST', '/policies', { role: 'ops', body: { note: 'second', policy: changed } });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.error, 'conflict');
    const stored = await service.request('GET', `/policies/${policy.version}`, { role: 'ops' });
    assert.equal(stored.body.note, 'first');
    assert.equal(stored.body.policy.scoring.mqlThreshold, 40);
  });

  test('leads keep the version they started under; ops migrates a running lead, once', async () => {
    const before = (await service.request('GET', '/policies', { role: 'ops' })).body.current as string;
    const oldLead = uniqueId('L');
    assert.equal((await intake(oldLead)).body.stage, 'LEAD', 'cold under the MQL threshold of 40');

    // The new rules lower the MQL threshold, so the same score now enters as an MQL.
    const policy = policyDocument((p) => (p.scoring.mqlThreshold = 10));
    const published = await service.request('POST', '/policies', { role: 'ops', body: { note: 'MQL threshold to 10', policy } });
    assert.equal(published.status, 201, JSON.stringify(published.body));

    const newLead = uniqueId('L');
    assert.equal((await intake(newLead)).body.stage, 'MQL', 'the new lead runs the new rules');
    assert.equal((await service.request('GET', `/leads/${newLead}`)).body.policyVersion, policy.version);
    const old = await service.request('GET', `/leads/${oldLead}`);
    assert.equal(old.body.policyVersion, before, 'a running lead keeps its version');
    assert.notEqual(before, policy.version);

    const bySales = await service.request('POST', `/leads/${oldLead}/policy`, { body: { version: policy.version } });
    assert.equal(bySales.status, 403);

    const migrated = await service.request('POST', `/leads/${oldLead}/policy`, {
      role: 'ops',
      body: { version: policy.version, note: 'move to the new thresholds' },
    });
    assert.equal(migrated.status, 200, JSON.stringify(migrated.body));
    assert.equal(migrated.body.policyVersion, policy.version);
    assert.equal(migrated.body.leadId, oldLead);
    assert.equal((await service.request('GET', `/leads/${oldLead}`)).body.policyVersion, policy.version);

    const timeline = await eventually(
      () => service.request('GET', `/leads/${oldLead}/timeline`, { role: 'ops' }),
      (r) => r.status === 200 && r.body.events.some((event: { type: string }) => event.type === 'policy-migrated'),
      'the policy-migrated audit event',
    );
    const event = timeline.body.events.find((e: { type: string }) => e.type === 'policy-migrated');
    assert.equal(event.actor, 'ops-actor');
    assert.equal(event.payload.from, before);
    assert.equal(event.payload.to, policy.version);
    assert.equal(event.payload.note, 'move to the new thresholds');

    const again = await service.request('POST', `/leads/${oldLead}/policy`, { role: 'ops', body: { version: policy.version } });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.match(again.body.message, /already runs under policy/);

    const unknownVersion = await service.request('POST', `/leads/${oldLead}/policy`, { role: 'ops', body: { version: 'no-such-version' } });
    assert.equal(unknownVersion.status, 404, JSON.stringify(unknownVersion.body));
    assert.match(unknownVersion.body.message, /no-such-version/);
    assert.equal((await service.request('GET', `/leads/${oldLead}`)).body.policyVersion, policy.version, 'refusals changed nothing');

    const unknownLead = await service.request('POST', `/leads/${uniqueId('L')}/policy`, { role: 'ops', body: { version: policy.version } });
    assert.equal(unknownLead.status, 404);

    const noVersion = await service.request('POST', `/leads/${oldLead}/policy`, { role: 'ops', body: {} });
    assert.equal(noVersion.status, 400);
    assert.deepEqual(noVersion.body.issues.map((issue: { path: string }) => issue.path), ['version']);
  });

  test('POST /policies/simulate refuses input at its limits, clearly, and admits only ops and managers', async () => {
    const from = new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const to = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const simulate = (body: object, role: 'ops' | 'manager' | 'sales' | 'cs' = 'ops') => service.request('POST', '/policies/simulate', { role, body });

    const broken = policyDocument((p) => (p.scoring.hotThreshold = 10));
    const invalid = await simulate({ policy: broken, from, to });
    assert.equal(invalid.status, 400, JSON.stringify(invalid.body));
    assert.equal(invalid.body.error, 'invalid-request');
    assert.ok(invalid.body.issues.some((issue: { path: string }) => issue.path === 'policy.scoring.hotThreshold'), JSON.stringify(invalid.body.issues));
    assert.match(invalid.body.message, /policy\.scoring\.hotThreshold: must be at or above mqlThreshold/, 'the validator’s own message');

    const neither = await simulate({ from, to });
    assert.equal(neither.status, 400);
    assert.match(neither.body.message, /`policy`.*or `version`/);
    const both = await simulate({ policy: policyDocument(), version: startVersion, from, to });
    assert.equal(both.status, 400);
    assert.match(both.body.message, /either `policy` or `version`, not both/);

    const backwards = await simulate({ version: startVersion, from: to, to: from });
    assert.equal(backwards.status, 400);
    assert.match(backwards.body.message, /must be before to/);
    const empty = await simulate({ version: startVersion, from, to: from });
    assert.equal(empty.status, 400, 'from = to is an empty window');
    const tooLong = await simulate({ version: startVersion, from: '2025-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.message, /longer than 366 days/);
    const notAnInstant = await simulate({ version: startVersion, from: '2026-13-01', to });
    assert.equal(notAnInstant.status, 400);
    assert.deepEqual(notAnInstant.body.issues.map((issue: { path: string }) => issue.path), ['from']);

    const unknown = await simulate({ version: 'no-such-version', from, to });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    assert.match(unknown.body.message, /no policy version no-such-version/);

    for (const sample of [-1, 201, 1.5]) {
      const refused = await simulate({ version: startVersion, from, to, sample });
      assert.equal(refused.status, 400, `sample ${sample}`);
      assert.deepEqual(refused.body.issues.map((issue: { path: string }) => issue.path), ['sample']);
    }
    const extra = await simulate({ version: startVersion, from, to, dryRun: true });
    assert.equal(extra.status, 400, 'an unknown field');

    for (const role of ['sales', 'cs'] as const) {
      const refused = await simulate({ version: startVersion, from, to }, role);
      assert.equal(refused.status, 403, `${role}: ${JSON.stringify(refused.body)}`);
    }
    for (const role of ['ops', 'manager'] as const) {
      const answered = await simulate({ version: startVersion, from, to, sample: 0 }, role);
      assert.equal(answered.status, 200, `${role}: ${JSON.stringify(answered.body)}`);
      assert.deepEqual(answered.body.changes.first, [], 'sample 0 lists no record');
    }
  });

  test('POST /policies/simulate over this service’s leads: their own policies reproduce the audit; a lower MQL threshold says which leads change and why', async () => {
    // A lead cold under the MQL threshold of 40, started under a version of its own.
    const coldRules = policyDocument();
    assert.equal((await service.request('POST', '/policies', { role: 'ops', body: { note: 'back to 40', policy: coldRules } })).status, 201);
    const coldLead = uniqueId('L');
    assert.equal((await intake(coldLead)).body.stage, 'LEAD');
    await eventually(
      () => service.request('GET', `/leads/${coldLead}/timeline`, { role: 'ops' }),
      (r) => r.status === 200 && r.body.events.some((event: { type: string }) => event.type === 'received'),
      'the intake in the audit',
    );
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const current = (await service.request('GET', '/policies', { role: 'ops' })).body.current as string;
    const recordedRules = await service.request('POST', '/policies/simulate', { role: 'manager', body: { version: current, from, to, sample: 200 } });
    assert.equal(recordedRules.status, 200, JSON.stringify(recordedRules.body));
    const answer = recordedRules.body;
    assert.ok(answer.recorded.leads >= 3, `the leads of this file: ${answer.recorded.leads}`);
    assert.deepEqual(answer.reproduction.first, [], 'replays under the recorded policies (one lead migrated) differ from the audit');
    assert.equal(answer.reproduction.mismatches, 0);
    assert.equal(answer.skipped.leads, 0);
    assert.ok(answer.limits.some((limit: string) => /step times/.test(limit)), 'the answer says what a simulation cannot know');

    // Every cold lead of the window (scores of 15) would enter as an MQL at a threshold of 5.
    const lower = policyDocument((p) => (p.scoring.mqlThreshold = 5));
    const candidate = await service.request('POST', '/policies/simulate', { role: 'ops', body: { policy: lower, from, to, sample: 200 } });
    assert.equal(candidate.status, 200, JSON.stringify(candidate.body));
    const { recorded, simulated, changes } = candidate.body;
    assert.equal(simulated.mqlByBand.cold, 0);
    assert.equal(simulated.mqlByBand.mql, recorded.mqlByBand.mql + recorded.mqlByBand.cold);
    const change = changes.first.find((entry: { id: string }) => entry.id === coldLead);
    assert.ok(change, `${coldLead} is listed among ${JSON.stringify(changes.first)}`);
    assert.ok(change.why.includes('intake band cold → mql'), change.why.join('; '));
    assert.ok(change.why.some((why: string) => /stage now LEAD → MQL/.test(why)), change.why.join('; '));
    assert.equal((await service.request('GET', `/policies/${lower.version}`, { role: 'ops' })).status, 404, 'simulating publishes nothing');
  });

  test('the OpenAPI document describes the policy routes', async () => {
    const response = await service.app.request('/openapi.json');
    const document = (await response.json()) as any;
    assert.ok(document.paths['/policies'].get && document.paths['/policies'].post);
    assert.ok(document.paths['/policies/{version}'].get);
    assert.ok(document.paths['/leads/{leadId}/policy'].post);
    assert.ok(document.components.schemas.PolicyPublish);
    assert.ok(document.paths['/policies/simulate'].post);
    assert.ok(document.components.schemas.PolicySimulationRequest && document.components.schemas.PolicySimulation);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultTeamFile, loadTeamFile } from '../../api/team-file.js';
import { deals, leads } from '../../db/schema.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually, intakeRoutedLead } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';
import { createPolicyStore } from '../../db/policy-store.js';
import { DueSoonAtKey, SlaStateKey } from '../../workflows/search-attributes.js';

/** Every page of `path` (a query string already in it), following nextCursor to the end. */
async function allPages(service: RunningService, path: string, key: 'leads' | 'deals', role: 'sales' | 'cs' | 'ops' = 'ops') {
  const pages: Array<Array<Record<string, any>>> = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response = await service.request('GET', cursor === null ? path : `${path}${separator}cursor=${cursor}`, { role });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    pages.push(response.body[key]);
    cursor = response.body.nextCursor;
    assert.ok(pages.length < 100, 'paging never ends');
  } while (cursor !== null);
  return pages;
}

describe('GET /leads and GET /deals on a real service', () => {
  let service: RunningService;
  const run = uniqueId('lists');
  const policy = alwaysOpenPolicy(run);
  const leadIds: Record<string, 1 | 2 | 3> = { [`${run}-a`]: 1, [`${run}-b`]: 2, [`${run}-c`]: 1, [`${run}-d`]: 3 };
  const owners = new Map<string, string>();
  let startedAt: string;

  before(async () => {
    service = await startService(policy);
    await loadTeamFile(service.database.db, defaultTeamFile);
    startedAt = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    for (const [leadId, tier] of Object.entries(leadIds)) owners.set(leadId, await intakeRoutedLead(service, leadId, tier));
    // The list reads the projection, which the audit activity writes; wait until it holds every routed owner.
    await eventually(
      () => service.request('GET', '/leads?limit=200', { role: 'ops' }),
      (r) => Object.keys(leadIds).every((leadId) => r.body.leads.some((lead: any) => lead.leadId === leadId && lead.ownerId === owners.get(leadId))),
      'the projection of every routed lead',
    );
  });
  after(async () => {
    await service?.stop();
  });

  test('lead filters: stage, owner, tier and updatedSince each narrow the list to what the projection says', async () => {
    const mine = (body: any) => body.leads.map((lead: any) => lead.leadId).filter((id: string) => id in leadIds).sort();

    const tier1 = await service.request('GET', '/leads?tier=1&stage=MQL', { role: 'sales' });
    assert.equal(tier1.status, 200, JSON.stringify(tier1.body));
    assert.deepEqual(mine(tier1.body), [`${run}-a`, `${run}-c`]);
    assert.ok(tier1.body.leads.every((lead: any) => lead.icpTier === 1 && lead.stage === 'MQL'));

    const devSales = [...owners].filter(([, owner]) => owner === 'dev-sales').map(([leadId]) => leadId);
    assert.ok(devSales.length > 0, 'round robin from the team file gives dev-sales a lead');
    const owned = await service.request('GET', '/leads?ownerId=dev-sales', { role: 'sales', as: 'rep-anna' });
    assert.equal(owned.status, 200);
    assert.deepEqual(mine(owned.body), devSales.sort(), 'sales see every lead, not only their own');
    assert.ok(owned.body.leads.every((lead: any) => lead.ownerId === 'dev-sales'));

    assert.deepEqual(mine((await service.request('GET', '/leads?stage=SAL')).body), []);
    assert.deepEqual(mine((await service.request('GET', `/leads?updatedSince=${startedAt}`)).body), Object.keys(leadIds).sort());
    assert.deepEqual((await service.request('GET', '/leads?updatedSince=2099-01-01T00:00:00Z')).body, { leads: [], nextCursor: null });

    const lead = tier1.body.leads.find((row: any) => row.leadId === `${run}-a`);
    assert.equal(lead.company, `Company ${run}-a`);
    assert.equal(lead.policyVersion, policy.version);
    assert.equal(lead.email, undefined, 'a list carries no personal data');
  });

  test('paging walks every row once, in updatedAt then ID order, even where many rows share one updatedAt', async () => {
    // Rows written at one instant are where a cursor on updatedAt alone would skip or repeat.
    const at = new Date('2026-06-01T10:00:00.123Z');
    const tied = Array.from({ length: 23 }, (_, i) => `${run}-tie-${String(i).padStart(2, '0')}`);
    await service.database.db.insert(leads).values(
      tied.map((leadId) => ({
        leadId,
        workflowId: `lead-${leadId}`,
        email: `${leadId}@example.com`,
        company: 'Tied',
        icpTier: 2,
        stage: 'NURTURE',
        score: 10,
        policyVersion: policy.version,
        lastEventSeq: 1,
        createdAt: at,
        updatedAt: at,
      })),
    );

    const pages = await allPages(service, '/leads?limit=4', 'leads', 'sales');
    const ids = pages.flat().map((lead) => lead.leadId);
    assert.equal(new Set(ids).size, ids.length, 'no row twice');
    for (const leadId of [...tied, ...Object.keys(leadIds)]) assert.ok(ids.includes(leadId), `${leadId} missing`);
    assert.ok(pages.slice(0, -1).every((page) => page.length === 4));
    const order = pages.flat().map((lead) => [lead.updatedAt, lead.leadId] as const);
    const sorted = [...order].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1));
    assert.deepEqual(order, sorted);

    const nurture = await allPages(service, '/leads?stage=NURTURE&limit=5', 'leads');
    assert.deepEqual(nurture.flat().map((lead) => lead.leadId), tied, 'a filter pages the same way');
    assert.deepEqual(nurture.map((page) => page.length), [5, 5, 5, 5, 3]);
  });

  test('deal filters: stage, sales owner, CS owner, handoff state; paging across pages', async () => {
    const now = new Date().toISOString();
    const dealIds = [uniqueId('D'), uniqueId('D'), uniqueId('D')];
    for (const [index, dealId] of dealIds.entries()) {
      const salesOwnerId = index === 0 ? 'rep-anna' : 'dev-sales';
      const intake = await service.request('POST', '/deals', {
        body: { dealId, accountName: `Account ${index}`, amount: 1000 + index, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId },
      });
      assert.equal(intake.status, 201, JSON.stringify(intake.body));
    }
    // CS owners come from the team file's customer-success queue.
    const drawn = await eventually(
      () => service.request('GET', '/deals?limit=200', { role: 'cs' }),
      (r) => dealIds.every((dealId) => r.body.deals.some((deal: any) => deal.dealId === dealId && deal.csOwnerId !== null)),
      'the CS owner of every deal in the projection',
    );
    const csOwner = drawn.body.deals.find((deal: any) => deal.dealId === dealIds[0]).csOwnerId as string;
    assert.ok(['dev-cs', 'cs-eva'].includes(csOwner));

    const mine = (body: any) => body.deals.map((deal: any) => deal.dealId).filter((id: string) => dealIds.includes(id)).sort();
    assert.deepEqual(mine((await service.request('GET', '/deals?salesOwnerId=dev-sales')).body), dealIds.slice(1).sort());
    const byCs = await service.request('GET', `/deals?csOwnerId=${csOwner}`, { role: 'cs' });
    assert.ok(byCs.body.deals.every((deal: any) => deal.csOwnerId === csOwner));
    assert.ok(mine(byCs.body).includes(dealIds[0]));
    assert.deepEqual(mine((await service.request('GET', '/deals?stage=AWAITING_DOSSIER&handoffState=on-track', { role: 'ops' })).body), [...dealIds].sort());
    assert.deepEqual(mine((await service.request('GET', '/deals?handoffState=breached')).body), []);
    assert.deepEqual(mine((await service.request('GET', '/deals?stage=ONBOARDING')).body), []);

    const breachedAt = new Date('2026-06-02T08:00:00Z');
    await service.database.db.insert(deals).values({
      dealId: `${run}-breached`,
      workflowId: `deal-${run}-breached`,
      accountName: 'Late',
      amount: 5,
      currency: 'EUR',
      salesOwnerId: 'rep-bartek',
      stage: 'AWAITING_DOSSIER',
      handoffState: 'breached',
      policyVersion: policy.version,
      signedAt: breachedAt,
      closedWonAt: breachedAt,
      lastEventSeq: 1,
      createdAt: breachedAt,
      updatedAt: breachedAt,
    });
    const breached = await service.request('GET', '/deals?handoffState=breached');
    assert.deepEqual(breached.body.deals.map((deal: any) => deal.dealId), [`${run}-breached`]);
    assert.equal(breached.body.deals[0].amount, 5);

    const pages = await allPages(service, '/deals?limit=1', 'deals', 'cs');
    const ids = pages.flat().map((deal) => deal.dealId);
    assert.deepEqual([...ids].sort(), [...dealIds, `${run}-breached`].sort());
    assert.equal(ids[0], `${run}-breached`, 'the oldest change comes first');
  });

  test('a cursor the API did not hand out, and every out-of-range parameter, is a 400', async () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const query of [
      'cursor=not-a-cursor',
      `cursor=${forged(['2026-02-30T10:00:00.000000Z', 'L-1'])}`,
      `cursor=${forged(['2026-02-01T10:00:00.000000Z', 'bad id!'])}`,
      `cursor=${forged({ at: '2026-02-01T10:00:00.000000Z' })}`,
      'cursor=a+b',
      'limit=0',
      'limit=201',
      'limit=1.5',
      'limit=ten',
      'tier=4',
      'stage=NOPE',
      'ownerId=',
      'updatedSince=yesterday',
      'slaState=late',
    ]) {
      const response = await service.request('GET', `/leads?${query}`);
      assert.equal(response.status, 400, `${query}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error, 'invalid-request');
    }
    assert.equal((await service.request('GET', '/deals?cursor=%00')).status, 400);
    assert.equal((await service.request('GET', '/deals?handoffState=late')).status, 400);
    assert.equal((await service.request('GET', '/leads?limit=200')).status, 200);
  });

  test('roles: leads for sales, ops and managers; deals for CS too; a token is needed', async () => {
    assert.equal((await service.request('GET', '/leads', { role: 'cs' })).status, 403);
    assert.equal((await service.request('GET', '/leads', { role: 'manager' })).status, 200);
    assert.equal((await service.request('GET', '/deals', { role: 'manager' })).status, 200);
    assert.equal((await service.request('GET', '/deals', { role: null })).status, 401);
  });

  test('the OpenAPI document states the parameters and their bounds', async () => {
    const document = (await service.request('GET', '/openapi.json', { role: null })).body;
    const parameters = (path: string) => Object.fromEntries(document.paths[path].get.parameters.map((p: any) => [p.name, p.schema]));
    const leadParameters = parameters('/leads');
    assert.deepEqual(Object.keys(leadParameters).sort(), ['cursor', 'limit', 'ownerId', 'slaState', 'stage', 'tier', 'updatedSince']);
    assert.equal(leadParameters.limit.minimum, 1);
    assert.equal(leadParameters.limit.maximum, 200);
    assert.equal(leadParameters.limit.type, 'integer');
    assert.deepEqual(leadParameters.tier.enum, [1, 2, 3]);
    assert.match(document.paths['/leads'].get.description, /projection cannot hold it/);
    assert.deepEqual(leadParameters.slaState.enum, ['on-track', 'due-soon', 'breached']);
    assert.deepEqual(Object.keys(parameters('/deals')).sort(), ['csOwnerId', 'cursor', 'handoffState', 'limit', 'salesOwnerId', 'stage', 'updatedSince']);
  });

  test('slaState reads Temporal visibility: the routed leads are on track, none breached; it combines with the other filters and pages', async () => {
    const mine = (body: any) => body.leads.map((lead: any) => lead.leadId).filter((id: string) => id in leadIds).sort();
    const onTrack = await eventually(
      () => service.request('GET', '/leads?slaState=on-track&limit=200', { role: 'manager' }),
      (r) => r.status === 200 && mine(r.body).length === Object.keys(leadIds).length,
      'visibility to show every routed lead on track',
    );
    assert.ok(onTrack.body.leads.every((lead: any) => lead.stage === 'MQL'));
    assert.deepEqual(mine((await service.request('GET', '/leads?slaState=on-track&tier=1')).body), [`${run}-a`, `${run}-c`]);
    assert.deepEqual(mine((await service.request('GET', '/leads?slaState=breached')).body), []);
    assert.deepEqual(mine((await service.request('GET', '/leads?slaState=on-track&stage=SAL')).body), []);
    const pages = await allPages(service, '/leads?slaState=on-track&limit=1', 'leads');
    assert.deepEqual(pages.flat().map((lead) => lead.leadId).filter((id) => id in leadIds).sort(), Object.keys(leadIds).sort());
  });

  test('a closed lead is answered from the archive, not by a query to its workflow', async () => {
    const leadId = `${run}-closed`;
    const owner = await intakeRoutedLead(service, leadId, 2);
    for (const [path, body] of [
      ['accept', {}],
      ['contact-attempts', { channel: 'phone', outcome: 'connected' }],
      ['qualify', { need: true, budget: true, timing: true }],
      ['close', { outcome: 'lost', reason: 'no budget after all' }],
    ] as const) {
      const step = await service.request('POST', `/leads/${leadId}/${path}`, { as: owner, body });
      assert.equal(step.status, 200, `${path}: ${JSON.stringify(step.body)}`);
    }
    // Once the workflow has ended, its archive row answers: no query, so neither a worker nor Temporal's retention is needed.
    await service.temporal.client.workflow.getHandle(`lead-${leadId}`).result();

    const archived = await service.request('GET', `/leads/${leadId}`, { role: 'manager' });
    assert.equal(archived.status, 200, JSON.stringify(archived.body));
    assert.equal(archived.body.stage, 'LOST');
    assert.equal(archived.body.ownerId, owner);
    assert.equal(archived.body.closed.source, 'archive');
    assert.deepEqual(archived.body.deadlines, []);
    assert.equal(archived.body.recentRequests, undefined, "the workflow's idempotency ledger is not part of the answer");
    const listed = await service.request('GET', '/leads?stage=LOST');
    assert.ok(listed.body.leads.some((lead: any) => lead.leadId === leadId), 'the list has it too');
  });

  test('slaState=due-soon finds a lead whose due-soon mark has passed, though no timer woke it to say so (DueSoonAt)', async () => {
    // A policy whose due-soon window (a day) is longer than any response allowance: every lead is due soon at once.
    await createPolicyStore(service.database.db).publish({
      document: { ...policy, version: `${run}-due-soon`, sla: { dueSoonBefore: { amount: 1, unit: 'days', clock: 'wall' } } },
      author: 'test',
      note: 'due soon from the start',
    });
    const leadId = `${run}-due-soon`;
    await intakeRoutedLead(service, leadId, 2);
    const dueSoon = await eventually(
      () => service.request('GET', '/leads?slaState=due-soon&limit=200', { role: 'manager' }),
      (r) => r.status === 200 && r.body.leads.some((lead: any) => lead.leadId === leadId),
      'visibility to show the lead due soon',
    );
    assert.ok(!dueSoon.body.leads.some((lead: any) => lead.leadId in leadIds), 'the leads of the first policy are not due soon');
    const onTrack = await service.request('GET', '/leads?slaState=on-track&limit=200', { role: 'manager' });
    assert.ok(!onTrack.body.leads.some((lead: any) => lead.leadId === leadId), 'a due-soon lead is not on track');
    // Its visibility keeps SlaState on-track: due soon is DueSoonAt passed.
    const attributes = (await service.temporal.client.workflow.getHandle(`lead-${leadId}`).describe()).typedSearchAttributes;
    assert.equal(attributes.get(SlaStateKey), 'on-track');
    assert.ok(attributes.get(DueSoonAtKey)!.getTime() <= Date.now());
    assert.equal((await service.request('GET', `/leads/${leadId}`, { role: 'ops' })).body.slaState, 'due-soon');
  });
});

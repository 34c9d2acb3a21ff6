import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { NO_AVAILABLE_REP, routeLead, type RouteLeadInput, type RouteLeadResult } from '../../activities/routing.js';
import { leadAssignments, leads, queueMembers, queues, reps } from '../../db/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { uniqueId } from '../support/temporal.js';

const at = '2026-11-23T10:00:00.000Z';
const awayNow = [{ from: '2026-11-20T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z' }];

interface SeedRep {
  suffix: string;
  seniority?: 'junior' | 'senior';
  active?: boolean;
  outOfOffice?: Array<{ from: string; to: string }>;
}

describe('routeLead against real Postgres', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  /** A queue of its own per test, with reps named `<prefix>-<suffix>` in the given rotation order. */
  async function seedQueue(members: SeedRep[], options: { strategy?: 'round-robin' | 'tier-priority'; managerId?: string } = {}) {
    const queueId = uniqueId('q');
    const repIds = members.map((member) => `${queueId}-${member.suffix}`);
    await database.db.insert(reps).values(
      members.map((member, index) => ({
        repId: repIds[index]!,
        name: member.suffix,
        seniority: member.seniority ?? 'junior',
        active: member.active ?? true,
        outOfOffice: member.outOfOffice ?? [],
      })),
    );
    await database.db
      .insert(queues)
      .values({ queueId, name: queueId, strategy: options.strategy ?? 'round-robin', managerId: options.managerId ?? null });
    if (repIds.length > 0) {
      await database.db.insert(queueMembers).values(repIds.map((repId, position) => ({ queueId, repId, position })));
    }
    return { queueId, repIds };
  }

  function input(queueId: string, overrides: Partial<RouteLeadInput> = {}): RouteLeadInput {
    const leadId = overrides.leadId ?? uniqueId('L');
    return {
      idempotencyKey: `lead-${leadId}:route-1`,
      leadId,
      lead: { tier: 2, hot: false, company: `${leadId} Inc` },
      rules: [],
      fallbackQueueId: queueId,
      at,
      ...overrides,
    };
  }

  async function assignmentsFor(leadId: string) {
    return database.db.select().from(leadAssignments).where(eq(leadAssignments.leadId, leadId));
  }

  async function assertNoAvailableRep(promise: Promise<unknown>, mentions: RegExp) {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(error)}`);
      assert.equal(error.type, NO_AVAILABLE_REP);
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, mentions);
      return true;
    });
  }

  test('round robin: two leads with different idempotency keys go to different reps, in member order', async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'a' }, { suffix: 'b' }], { managerId: 'mgr-1' });
    const first = await routeLead(database.db, input(queueId));
    const second = await routeLead(database.db, input(queueId));
    assert.deepEqual(first, { repId: repIds[0], queueId, reason: 'round-robin', managerId: 'mgr-1' });
    assert.deepEqual(second, { repId: repIds[1], queueId, reason: 'round-robin', managerId: 'mgr-1' });
    const [queue] = await database.db.select().from(queues).where(eq(queues.queueId, queueId));
    assert.equal(queue!.lastAssignedRepId, repIds[1]);
  });

  test('a retried activity (same idempotency key) returns the same rep and writes one assignment', async () => {
    const { queueId } = await seedQueue([{ suffix: 'a' }, { suffix: 'b' }]);
    const env = new MockActivityEnvironment();
    const activity = (routeInput: RouteLeadInput) => routeLead(database.db, routeInput);
    const routeInput = input(queueId);
    const first = await env.run<[RouteLeadInput], RouteLeadResult, typeof activity>(activity, routeInput);
    const [queueAfterFirst] = await database.db.select().from(queues).where(eq(queues.queueId, queueId));
    const retried = await env.run<[RouteLeadInput], RouteLeadResult, typeof activity>(activity, routeInput);
    assert.deepEqual(retried, first);
    const rows = await assignmentsFor(routeInput.leadId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.idempotencyKey, routeInput.idempotencyKey);
    assert.equal(rows[0]!.repId, first.repId);
    assert.equal(rows[0]!.assignedAt.toISOString(), at);
    const [queueAfterRetry] = await database.db.select().from(queues).where(eq(queues.queueId, queueId));
    assert.equal(queueAfterRetry!.lastAssignedRepId, queueAfterFirst!.lastAssignedRepId, 'the retry does not move the rotation');
  });

  test('concurrent attempts with one key agree on one rep', async () => {
    const { queueId } = await seedQueue([{ suffix: 'a' }, { suffix: 'b' }, { suffix: 'c' }]);
    const routeInput = input(queueId);
    const results = await Promise.all([1, 2, 3, 4].map(() => routeLead(database.db, routeInput)));
    assert.equal(new Set(results.map((result) => result.repId)).size, 1);
    assert.equal((await assignmentsFor(routeInput.leadId)).length, 1);
  });

  test('concurrent leads through one queue take successive turns', async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'a' }, { suffix: 'b' }, { suffix: 'c' }]);
    const results = await Promise.all([1, 2, 3].map(() => routeLead(database.db, input(queueId))));
    assert.deepEqual(results.map((result) => result.repId).sort(), [...repIds].sort());
  });

  test('thirty leads routed at once through one queue share its turns evenly, each turn taken once', async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'a' }, { suffix: 'b' }, { suffix: 'c' }]);
    const results = await Promise.all(Array.from({ length: 30 }, () => routeLead(database.db, input(queueId))));
    const perRep = repIds.map((repId) => results.filter((result) => result.repId === repId).length);
    assert.deepEqual(perRep, [10, 10, 10], 'two leads chosen from the same pointer would give one rep an extra turn');
    const rows = await database.db.select().from(leadAssignments).where(eq(leadAssignments.queueId, queueId));
    assert.equal(rows.length, 30);
  });

  test('a rep who is out of office at the decision time is skipped', async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'away', outOfOffice: awayNow }, { suffix: 'here' }]);
    const first = await routeLead(database.db, input(queueId));
    const second = await routeLead(database.db, input(queueId));
    assert.equal(first.repId, repIds[1]);
    assert.equal(second.repId, repIds[1]);
    // Once the absence is over, the rep is back in rotation.
    const later = await routeLead(database.db, input(queueId, { at: '2026-12-01T10:00:00.000Z' }));
    assert.equal(later.repId, repIds[0]);
  });

  test('inactive and excluded reps are skipped', async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'gone', active: false }, { suffix: 'owner' }, { suffix: 'next' }]);
    const result = await routeLead(database.db, input(queueId, { exclude: [repIds[1]!] }));
    assert.equal(result.repId, repIds[2]);
  });

  test('open leads weigh in: the rep with fewer open leads gets the next one', async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'busy' }, { suffix: 'free' }]);
    const now = new Date(at);
    await database.db.insert(leads).values(
      ['MQL', 'SAL', 'WON'].map((stage) => ({
        leadId: uniqueId('L'),
        workflowId: uniqueId('wf'),
        email: 'x@y.co',
        company: uniqueId('Other'),
        icpTier: 2,
        stage,
        ownerId: stage === 'WON' ? repIds[1]! : repIds[0]!,
        score: 50,
        policyVersion: 'v1',
        lastEventSeq: 1,
        createdAt: now,
        updatedAt: now,
      })),
    );
    const result = await routeLead(database.db, input(queueId));
    assert.equal(result.repId, repIds[1], 'a closed lead does not count towards load');
  });

  test('account-based: an open lead of the same company (any casing) owned by rep X goes to X', async () => {
    const { queueId } = await seedQueue([{ suffix: 'a' }, { suffix: 'b' }], { managerId: 'mgr-q' });
    const accountOwner = uniqueId('rep-x');
    await database.db.insert(reps).values({ repId: accountOwner, name: 'X', seniority: 'senior' });
    const company = uniqueId('Acme Corp');
    const now = new Date(at);
    await database.db.insert(leads).values({
      leadId: uniqueId('L'),
      workflowId: uniqueId('wf'),
      email: 'buyer@acme.example',
      company,
      icpTier: 1,
      stage: 'SAL',
      ownerId: accountOwner,
      score: 80,
      policyVersion: 'v1',
      lastEventSeq: 3,
      createdAt: now,
      updatedAt: now,
    });
    const routeInput = input(queueId);
    const result = await routeLead(database.db, { ...routeInput, lead: { ...routeInput.lead, company: company.toUpperCase() } });
    assert.deepEqual(result, { repId: accountOwner, queueId, reason: 'account-owner', managerId: 'mgr-q' });
    const [queue] = await database.db.select().from(queues).where(eq(queues.queueId, queueId));
    assert.equal(queue!.lastAssignedRepId, null, 'an account assignment does not take a turn in the rotation');
  });

  test('account-based: a closed lead of the same company does not make its owner the account owner', async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'a' }]);
    const formerOwner = uniqueId('rep-y');
    await database.db.insert(reps).values({ repId: formerOwner, name: 'Y', seniority: 'senior' });
    const company = uniqueId('Closed Co');
    const now = new Date(at);
    await database.db.insert(leads).values({
      leadId: uniqueId('L'),
      workflowId: uniqueId('wf'),
      email: 'a@closed.example',
      company,
      icpTier: 1,
      stage: 'NURTURE',
      ownerId: formerOwner,
      score: 10,
      policyVersion: 'v1',
      lastEventSeq: 2,
      createdAt: now,
      updatedAt: now,
    });
    const routeInput = input(queueId);
    const result = await routeLead(database.db, { ...routeInput, lead: { ...routeInput.lead, company } });
    assert.equal(result.repId, repIds[0]);
  });

  test('the queue comes from the first matching rule of the policy snapshot', async () => {
    const { queueId: fallback } = await seedQueue([{ suffix: 'f' }]);
    const { queueId: enterprise, repIds } = await seedQueue([{ suffix: 'e' }]);
    const result = await routeLead(database.db, input(fallback, { rules: [{ queueId: enterprise, tiers: [2] }] }));
    assert.equal(result.queueId, enterprise);
    assert.equal(result.repId, repIds[0]);
  });

  test('NoAvailableRep (non-retryable) when every member is away; nothing is written', async () => {
    const { queueId } = await seedQueue([
      { suffix: 'a', outOfOffice: awayNow },
      { suffix: 'b', outOfOffice: awayNow },
    ]);
    const routeInput = input(queueId);
    await assertNoAvailableRep(routeLead(database.db, routeInput), new RegExp(`${queueId}.*out of office`));
    assert.equal((await assignmentsFor(routeInput.leadId)).length, 0);
  });

  test('NoAvailableRep (non-retryable) when the queue does not exist', async () => {
    await assertNoAvailableRep(routeLead(database.db, input('no-such-queue')), /queue no-such-queue does not exist/);
  });

  test("a manager's choice is used when that rep exists and is active, and does not move the rotation", async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'a' }, { suffix: 'b' }], { managerId: 'mgr-z' });
    const result = await routeLead(database.db, input(queueId, { preferredRepId: repIds[1]!, exclude: [repIds[0]!] }));
    assert.deepEqual(result, { repId: repIds[1], queueId, reason: 'manager-choice', managerId: 'mgr-z' });
    const [queue] = await database.db.select().from(queues).where(eq(queues.queueId, queueId));
    assert.equal(queue!.lastAssignedRepId, null);
  });

  test("NoAvailableRep when the manager's chosen rep is unknown or inactive", async () => {
    const { queueId, repIds } = await seedQueue([{ suffix: 'a' }, { suffix: 'off', active: false }]);
    await assertNoAvailableRep(routeLead(database.db, input(queueId, { preferredRepId: 'nobody' })), /nobody does not exist/);
    await assertNoAvailableRep(routeLead(database.db, input(queueId, { preferredRepId: repIds[1]! })), /is inactive/);
  });
});

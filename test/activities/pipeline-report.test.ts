import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recordLeadEvents } from '../../activities/lead-audit.js';
import { dataQuality, pipelineHygiene } from '../../db/reports.js';
import { policies } from '../../db/schema.js';
import { leadSlaCsv } from '../../api/reports.js';
import { pipelineHygieneRow } from '../../domain/report-stats.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DAY = 86_400_000;
const asOf = new Date('2026-12-06T12:00:00Z');
const daysAgo = (days: number) => new Date(asOf.getTime() - days * DAY);

type Written = { seq: number; type: string; at: Date; payload?: Record<string, unknown> };

/** One batch of a lead's audit, as one step writes it, through the audit writer itself. */
async function writeBatch(database: TestDatabase, leadId: string, stage: string, events: readonly Written[]) {
  await recordLeadEvents(
    database.db,
    events.map((event) => ({
      workflowId: `lead-${leadId}`,
      leadId,
      seq: event.seq,
      stepKey: `${event.seq}-${event.type}`,
      type: event.type,
      at: event.at.toISOString(),
      actor: 'inserted',
      payload: event.payload ?? {},
      projection: { email: `${leadId}@example.com`, company: leadId, icpTier: 2, source: null, stage, ownerId: 'rep', score: 50, policyVersion: 'p' },
    })),
  );
}

/** The pipeline-hygiene figures of GET /reports/lead-sla over audit rows written by the audit writer itself. */
describe('pipeline hygiene report (Postgres)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  async function lead(leadId: string, stage: string, events: Array<Omit<Written, 'seq'>>) {
    await writeBatch(database, leadId, stage, events.map((event, index) => ({ ...event, seq: index + 1 })));
  }
  const nextStep = (at: Date, dueAt: Date) => ({ type: 'next-step-set', at, payload: { dueAt: dueAt.toISOString(), type: 'call' } });

  test('open opportunities, with a next step not past due, updated in the last 7 days, and both', async () => {
    // Maintained: qualified 3 days ago, next step tomorrow.
    await lead('L-ok', 'SQL', [{ type: 'qualified', at: daysAgo(3) }, nextStep(daysAgo(1), daysAgo(-1))]);
    // Updated 6 days ago, but the next step (set later) was due yesterday.
    await lead('L-overdue', 'SQL', [{ type: 'qualified', at: daysAgo(20) }, { type: 'opportunity-updated', at: daysAgo(6) }, nextStep(daysAgo(5), daysAgo(1))]);
    // A next step ahead, but last updated exactly 7 days and a minute ago.
    await lead('L-stale', 'SQL', [{ type: 'qualified', at: new Date(daysAgo(7).getTime() - 60_000) }, nextStep(daysAgo(2), daysAgo(-3))]);
    // The latest next step counts, not an earlier one.
    await lead('L-replaced', 'SQL', [{ type: 'qualified', at: daysAgo(2) }, nextStep(daysAgo(2), daysAgo(-9)), nextStep(daysAgo(1), daysAgo(0.5))]);
    // Not open: won.
    await lead('L-won', 'WON', [{ type: 'qualified', at: daysAgo(2) }, nextStep(daysAgo(1), daysAgo(-1))]);
    // Updated twice this week: one opportunity, counted once.
    await lead('L-twice', 'SQL', [{ type: 'qualified', at: daysAgo(4) }, { type: 'opportunity-updated', at: daysAgo(2) }, nextStep(daysAgo(2), daysAgo(-2))]);
    // Its only recent update is after asOf: not updated as of then.
    await lead('L-later', 'SQL', [{ type: 'qualified', at: daysAgo(30) }, { type: 'opportunity-updated', at: daysAgo(-1) }]);

    const figures = await pipelineHygiene(database.db, asOf);
    assert.deepEqual(figures, {
      asOf: asOf.toISOString(),
      openOpportunities: 6,
      withNextStep: 3,
      updatedThisWeek: 4,
      maintained: 2,
      maintainedShare: 2 / 6,
    });
    const csv = leadSlaCsv({
      speedToLead: { all: {} as never, byTier: [] },
      attemptsPerLead: { all: {} as never, byTier: [] },
      conversion: { all: {} as never, byTier: [] },
      rejections: { byReason: [], bySource: [], byTier: [] },
      conversionBySource: [],
      stageAging: { mql: { all: {} as never, byTier: [] }, sal: { all: {} as never, byTier: [] }, sql: { all: {} as never, byTier: [] } },
      salesCycle: { all: {} as never, byTier: [] },
      winRate: { all: {} as never, byTier: [] },
      mqlToSql: { actual: null, target: null, meetsTarget: null },
      pipelineHygiene: figures,
    });
    assert.match(csv, /pipeline-hygiene,all,,,maintainedShare,0\.333/);
  });

  test('no open opportunity: the share is null, not 0', () => {
    assert.equal(pipelineHygieneRow({ asOf, open: 0, withNextStep: 0, updatedThisWeek: 0, maintained: 0 }).maintainedShare, null);
  });

  test('data quality: leads taken in during the range without an intake flag or a bounce, against the current policy\'s target', async () => {
    const day = (n: number) => new Date(Date.UTC(2025, 0, n, 12));
    const received = (at: Date) => ({ type: 'received', at, payload: { stage: 'MQL', score: { total: 50 }, profile: { icpTier: 2 } } });
    const flagged = (at: Date, flag: string) => ({ type: 'record-flagged', at, payload: { flag } });
    await lead('Q-valid', 'MQL', [received(day(2))]);
    await lead('Q-no-company', 'MQL', [received(day(3)), flagged(day(3), 'company-missing')]);
    await lead('Q-bounced', 'SAL', [received(day(4)), flagged(day(6), 'email-bounced')]);
    await lead('Q-valid-2', 'MQL', [received(day(5))]);
    await lead('Q-outside', 'MQL', [received(day(20)), flagged(day(20), 'email-invalid')]);
    const range = { from: day(1), to: day(10) };

    assert.deepEqual(await dataQuality(database.db, range), { records: 4, valid: 2, validShare: 0.5, target: null, meetsTarget: null });
    await database.db.insert(policies).values({ version: 'dq-1', document: { dataQuality: { validRecordsTarget: 0.95 } }, author: 'test', note: 'target' });
    assert.deepEqual(await dataQuality(database.db, range), { records: 4, valid: 2, validShare: 0.5, target: 0.95, meetsTarget: false });
    assert.deepEqual(await dataQuality(database.db, { from: day(5), to: day(6) }), { records: 1, valid: 1, validShare: 1, target: 0.95, meetsTarget: true });
  });
});

/**
 * Pipeline hygiene as of now reads each open opportunity's latest next step from the projection
 * (leads.next_step_due_at) instead of probing the audit: the same figures, whatever order a lead's batches were
 * written in.
 */
describe('pipeline hygiene as of now, from the projection (Postgres)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  const now = Date.now();
  const fromNow = (days: number) => new Date(now + days * DAY);
  const batch = (leadId: string, stage: string, events: readonly Written[]) => writeBatch(database, leadId, stage, events);
  const qualified = (seq: number, at: Date): Written => ({ seq, type: 'qualified', at });
  const updated = (seq: number, at: Date): Written => ({ seq, type: 'opportunity-updated', at });
  const nextStep = (seq: number, at: Date, dueAt: Date): Written => ({ seq, type: 'next-step-set', at, payload: { dueAt: dueAt.toISOString(), type: 'call' } });

  test('the same figures as the audit, with batches written late, out of order and twice', async () => {
    // In order: next step ahead, updated this week.
    await batch('N-ok', 'SQL', [qualified(1, fromNow(-3))]);
    await batch('N-ok', 'SQL', [nextStep(2, fromNow(-1), fromNow(2))]);
    // The batch that set the next step was written after a newer one: the projection row kept the newer batch,
    // and the next step still counts.
    await batch('N-late', 'SQL', [qualified(1, fromNow(-20))]);
    await batch('N-late', 'SQL', [updated(3, fromNow(-1))]);
    await batch('N-late', 'SQL', [nextStep(2, fromNow(-2), fromNow(4))]);
    // An older next step (now overdue) written after the newer one: the newer one stays.
    await batch('N-older-late', 'SQL', [qualified(1, fromNow(-30))]);
    await batch('N-older-late', 'SQL', [nextStep(3, fromNow(-2), fromNow(5))]);
    await batch('N-older-late', 'SQL', [nextStep(2, fromNow(-4), fromNow(-1))]);
    // Replaced by an overdue one in the same batch; then the batch retried.
    const replaced = [qualified(1, fromNow(-2)), nextStep(2, fromNow(-2), fromNow(9)), nextStep(3, fromNow(-1), fromNow(-0.5))];
    await batch('N-replaced', 'SQL', replaced);
    await batch('N-replaced', 'SQL', replaced);
    // Never given a next step; and a won opportunity, not open.
    await batch('N-none', 'SQL', [qualified(1, fromNow(-10))]);
    await batch('N-won', 'WON', [qualified(1, fromNow(-2)), nextStep(2, fromNow(-1), fromNow(1))]);

    const asOf = new Date();
    const fromProjection = await pipelineHygiene(database.db, asOf, { current: true });
    assert.deepEqual(fromProjection, await pipelineHygiene(database.db, asOf));
    assert.deepEqual(fromProjection, {
      asOf: asOf.toISOString(),
      openOpportunities: 5,
      withNextStep: 3,
      updatedThisWeek: 3,
      maintained: 2,
      maintainedShare: 2 / 5,
    });
  });
});

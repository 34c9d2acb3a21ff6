import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recordLeadEvents } from '../../activities/lead-audit.js';
import { pipelineHygiene } from '../../db/reports.js';
import { leadSlaCsv } from '../../api/reports.js';
import { pipelineHygieneRow } from '../../domain/report-stats.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DAY = 86_400_000;
const asOf = new Date('2026-12-06T12:00:00Z');
const daysAgo = (days: number) => new Date(asOf.getTime() - days * DAY);

/** The pipeline-hygiene figures of GET /reports/lead-sla over audit rows written by the audit writer itself. */
describe('pipeline hygiene report (Postgres)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  async function lead(leadId: string, stage: string, events: Array<{ type: string; at: Date; payload?: Record<string, unknown> }>) {
    await recordLeadEvents(
      database.db,
      events.map((event, index) => ({
        workflowId: `lead-${leadId}`,
        leadId,
        seq: index + 1,
        stepKey: `${index + 1}-${event.type}`,
        type: event.type,
        at: event.at.toISOString(),
        actor: 'inserted',
        payload: event.payload ?? {},
        projection: { email: `${leadId}@example.com`, company: leadId, icpTier: 2, source: null, stage, ownerId: 'rep', score: 50, policyVersion: 'p' },
      })),
    );
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

    const figures = await pipelineHygiene(database.db, asOf);
    assert.deepEqual(figures, {
      asOf: asOf.toISOString(),
      openOpportunities: 4,
      withNextStep: 2,
      updatedThisWeek: 3,
      maintained: 1,
      maintainedShare: 0.25,
    });
    const csv = leadSlaCsv({
      speedToLead: { all: {} as never, byTier: [] },
      attemptsPerLead: { all: {} as never, byTier: [] },
      conversion: { all: {} as never, byTier: [] },
      rejections: { byReason: [], bySource: [], byTier: [] },
      pipelineHygiene: figures,
    });
    assert.match(csv, /pipeline-hygiene,all,,,maintainedShare,0\.25/);
  });

  test('no open opportunity: the share is null, not 0', () => {
    assert.equal(pipelineHygieneRow({ asOf, open: 0, withNextStep: 0, updatedThisWeek: 0, maintained: 0 }).maintainedShare, null);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { createActivities } from '../../activities/index.js';
import { createNotifier } from '../../activities/notifier.js';
import type { LeadAuditEvent } from '../../activities/lead-audit.js';
import { leadEvents, leads } from '../../db/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { uniqueId } from '../support/temporal.js';

function auditEvent(leadId: string, seq: number, stage: string): LeadAuditEvent {
  return {
    workflowId: `lead-${leadId}`,
    leadId,
    seq,
    stepKey: `${seq}-step`,
    type: 'step',
    at: new Date(Date.UTC(2026, 10, 23, 10, seq)).toISOString(),
    actor: 'rep-1',
    payload: { seq },
    projection: { email: 'a@b.co', company: 'Acme', icpTier: 1, stage, ownerId: null, score: 50, policyVersion: 'v1' },
  };
}

describe('recordLeadEvents against real Postgres', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  test('an activity run twice (a retry) writes its event once', async () => {
    const activities = createActivities({ db: database.db, notifier: createNotifier(database.db, {}) });
    const env = new MockActivityEnvironment();
    const leadId = uniqueId('L');
    const event = auditEvent(leadId, 1, 'MQL');
    await env.run(activities.recordLeadEvents, [event]);
    await env.run(activities.recordLeadEvents, [event]);
    const rows = await database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.idempotencyKey, `lead-${leadId}:1-step`);
  });

  test('a late or replayed older event never rolls the projection back', async () => {
    const activities = createActivities({ db: database.db, notifier: createNotifier(database.db, {}) });
    const env = new MockActivityEnvironment();
    const leadId = uniqueId('L');
    await env.run(activities.recordLeadEvents, [auditEvent(leadId, 2, 'SAL')]);
    await env.run(activities.recordLeadEvents, [auditEvent(leadId, 1, 'MQL')]);
    const [projection] = await database.db.select().from(leads).where(eq(leads.leadId, leadId));
    assert.equal(projection!.stage, 'SAL');
    assert.equal(projection!.lastEventSeq, 2);
    const rows = await database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId));
    assert.equal(rows.length, 2, 'the older event is still appended to the audit');
  });
});

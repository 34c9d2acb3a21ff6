import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { createActivities } from '../../activities/index.js';
import { createNotifier, type Notification } from '../../activities/notifier.js';
import type { LeadAuditEvent } from '../../activities/lead-audit.js';
import { leadEvents, leadReportFacts, leads } from '../../db/schema.js';
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

  test("a step's events commit together: one that cannot be written leaves none of them", async () => {
    const activities = createActivities({ db: database.db, notifier: createNotifier(database.db, {}) });
    const env = new MockActivityEnvironment();
    const leadId = uniqueId('L');
    const unwritable = { ...auditEvent(leadId, 2, 'SAL'), at: 'not an instant' };
    await assert.rejects(env.run(activities.recordLeadEvents, [auditEvent(leadId, 1, 'MQL'), unwritable]));
    assert.equal((await database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId))).length, 0);
    assert.equal((await database.db.select().from(leads).where(eq(leads.leadId, leadId))).length, 0);

    await env.run(activities.recordLeadEvents, [auditEvent(leadId, 1, 'MQL'), auditEvent(leadId, 2, 'SAL')]);
    const rows = await database.db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId));
    assert.deepEqual(rows.map((row) => row.seq).sort(), [1, 2], 'the retried step writes both');
  });

  test('report facts: written with the events, and the migration backfill derives exactly the same rows', async () => {
    const activities = createActivities({ db: database.db, notifier: createNotifier(database.db, {}) });
    const env = new MockActivityEnvironment();
    const leadId = uniqueId('L');
    const startedAt = new Date(Date.UTC(2026, 10, 23, 10, 0)).toISOString();
    const steps: Array<[string, Record<string, unknown>]> = [
      ['received', { stage: 'MQL', profile: { source: 'webinar' } }],
      ['routed', { repId: 'rep-1' }],
      ['sla-breached', { deadline: 'speed-to-lead' }],
      ['escalated', { level: 1 }],
      ['accepted', {}],
      ['contact-attempted', { number: 1, outcome: 'no-answer' }],
      ['speed-to-lead-met', { startedAt, breached: true, businessMinutes: 17.25 }],
      ['sla-breached', { deadline: 'cadence-attempt' }],
      ['returned-to-nurture', { reason: 'no-budget' }],
      ['stage-changed', { to: 'MQL' }],
      ['qualified', {}],
      ['closed', { outcome: 'won' }],
    ];
    await env.run(
      activities.recordLeadEvents,
      steps.map(([type, payload], index) => ({
        ...auditEvent(leadId, index + 1, 'MQL'),
        type,
        payload,
        projection: { ...auditEvent(leadId, index + 1, 'MQL').projection, icpTier: 2, source: 'webinar' },
      })),
    );
    const eventIds = (await database.db.select({ id: leadEvents.id }).from(leadEvents).where(eq(leadEvents.leadId, leadId))).map((row) => row.id);
    const facts = () => database.db.select().from(leadReportFacts).where(inArray(leadReportFacts.eventId, eventIds)).orderBy(asc(leadReportFacts.eventId));

    const written = await facts();
    assert.deepEqual(
      written.map((fact) => fact.type),
      steps.map(([type]) => type).filter((type) => type !== 'routed' && type !== 'escalated'),
    );
    assert.ok(written.every((fact) => fact.tier === 2 && fact.source === 'webinar'));
    assert.deepEqual(
      written.filter((fact) => fact.type === 'sla-breached').map((fact) => fact.counts),
      [true, false],
      'only the speed-to-lead breach counts',
    );
    const met = written.find((fact) => fact.type === 'speed-to-lead-met')!;
    assert.deepEqual([met.businessMinutes, met.metLate, met.clockStartedAt?.toISOString()], [17.25, true, startedAt]);

    // Rows written before migration 0005 get theirs from its backfill: it must agree with the live writer.
    const migration = readFileSync(new URL('../../db/migrations/0005_lead_report_facts.sql', import.meta.url), 'utf8');
    const statements = migration.split('--> statement-breakpoint').map((statement) => statement.trim());
    const backfill = statements.filter((statement) => /^(--[^\n]*\n)*\s*(UPDATE "leads"|INSERT INTO "lead_report_facts")/.test(statement));
    assert.equal(backfill.length, 2, 'the migration backfills leads.source and lead_report_facts');
    await database.db.delete(leadReportFacts).where(inArray(leadReportFacts.eventId, eventIds));
    await database.db.update(leads).set({ source: null }).where(eq(leads.leadId, leadId));
    for (const statement of backfill) await database.db.execute(sql.raw(statement));
    assert.deepEqual(await facts(), written);
  });
  describe('a commit that carries its notifications (recordLeadEventsAndNotify)', () => {
    const notificationOf = (leadId: string, step: string): Notification => ({
      idempotencyKey: `lead-${leadId}:notify:${step}`,
      type: 'lead.assigned',
      subjectId: `lead-${leadId}`,
      recipients: ['rep-1'],
      at: new Date(Date.UTC(2026, 10, 23, 10, 0)).toISOString(),
      summary: 'Lead assigned to rep-1',
      details: { leadId },
    });
    /** The ID of the transaction that wrote each row (Postgres' xmin): equal IDs mean one commit. */
    const writers = async (leadId: string) => {
      const [event] = (await database.db.execute(sql`select xmin::text as xid from lead_events where lead_id = ${leadId}`)) as unknown as Array<{ xid: string }>;
      const recorded = (await database.db.execute(
        sql`select xmin::text as xid, status from notifications where subject_id = ${`lead-${leadId}`}`,
      )) as unknown as Array<{ xid: string; status: string }>;
      return { event: event?.xid, notifications: recorded.map(({ xid, status }) => ({ xid, status })) };
    };

    test("the notifications' records are written by the audit's own transaction, and a retry records and sends nothing again", async () => {
      const activities = createActivities({ db: database.db, notifier: createNotifier(database.db, {}) });
      const env = new MockActivityEnvironment();
      const leadId = uniqueId('L');
      const batch = [notificationOf(leadId, 'a'), notificationOf(leadId, 'b')];

      const first = await env.run(activities.recordLeadEventsAndNotify, [auditEvent(leadId, 1, 'MQL')], batch, 1_000);
      assert.deepEqual(first, { refused: [], undelivered: [] });
      const written = await writers(leadId);
      assert.equal(written.notifications.length, 2);
      for (const row of written.notifications) {
        assert.equal(row.status, 'logged');
        assert.equal(row.xid, written.event, 'recorded in the transaction that wrote the audit event');
      }

      const retried = await env.run(activities.recordLeadEventsAndNotify, [auditEvent(leadId, 1, 'MQL')], batch, 1_000);
      assert.deepEqual(retried, { refused: [], undelivered: [] });
      assert.deepEqual(await writers(leadId), written, 'the retry changed no row');
    });

    test('an audit the database refuses records none of its notifications', async () => {
      const activities = createActivities({ db: database.db, notifier: createNotifier(database.db, {}) });
      const env = new MockActivityEnvironment();
      const leadId = uniqueId('L');
      const unwritable = { ...auditEvent(leadId, 1, 'MQL'), at: 'not an instant' };
      await assert.rejects(env.run(activities.recordLeadEventsAndNotify, [unwritable], [notificationOf(leadId, 'a')], 1_000));
      assert.deepEqual(await writers(leadId), { event: undefined, notifications: [] });
    });
  });
});

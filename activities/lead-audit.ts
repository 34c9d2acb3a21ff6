import { sql } from 'drizzle-orm';
import { appendInOneTransaction, type Database, type Transaction } from '../db/client.js';
import { leadEvents, leadReportFacts, leads } from '../db/schema.js';
import { leadReportFact } from '../domain/report-stats.js';

export interface LeadProjection {
  email: string;
  company: string;
  icpTier: number;
  /** Intake source; absent from events scheduled before the field existed, which then keep the stored one. */
  source?: string | null;
  stage: string;
  ownerId: string | null;
  score: number;
  policyVersion: string;
}

/** One audit event plus the lead's state right after it. */
export interface LeadAuditEvent {
  workflowId: string;
  leadId: string;
  seq: number;
  stepKey: string;
  type: string;
  at: string;
  actor: string;
  payload: Record<string, unknown>;
  projection: LeadProjection;
}

export function leadEventIdempotencyKey(event: Pick<LeadAuditEvent, 'workflowId' | 'stepKey'>): string {
  return `${event.workflowId}:${event.stepKey}`;
}

/**
 * Appends a step's events in order and moves the projection forward, all in one transaction, so the audit
 * never holds half a step. A retry finds each event's idempotency key taken and writes nothing for it; an
 * older event never overwrites a newer projection.
 */
export function recordLeadEvents(db: Database, events: readonly LeadAuditEvent[]): Promise<{ written: number }> {
  return appendInOneTransaction(db, events, appendLeadEvent);
}

async function appendLeadEvent(tx: Transaction, event: LeadAuditEvent): Promise<boolean> {
  const at = new Date(event.at);
  const inserted = await tx
    .insert(leadEvents)
    .values({
      leadId: event.leadId,
      workflowId: event.workflowId,
      idempotencyKey: leadEventIdempotencyKey(event),
      seq: event.seq,
      type: event.type,
      at,
      actor: event.actor,
      payload: event.payload,
    })
    .onConflictDoNothing({ target: leadEvents.idempotencyKey })
    .returning({ id: leadEvents.id });
  if (inserted.length === 0) return false;

  const { source, ...projection } = event.projection;
  const row = { ...projection, ...(source === undefined ? {} : { source }), workflowId: event.workflowId, lastEventSeq: event.seq, updatedAt: at };
  await tx
    .insert(leads)
    .values({ leadId: event.leadId, createdAt: at, ...row })
    .onConflictDoUpdate({
      target: leads.leadId,
      set: row,
      setWhere: sql`${leads.lastEventSeq} < ${event.seq}`,
    });

  const fact = leadReportFact(event.type, event.payload);
  if (fact) {
    await tx.insert(leadReportFacts).values({
      eventId: inserted[0]!.id,
      leadId: event.leadId,
      tier: event.projection.icpTier,
      source: sql`(select ${leads.source} from ${leads} where ${leads.leadId} = ${event.leadId})`,
      type: fact.type,
      at,
      counts: fact.counts,
      businessMinutes: fact.businessMinutes,
      metLate: fact.metLate,
      clockStartedAt: fact.clockStartedAt === null ? null : new Date(fact.clockStartedAt),
      reason: fact.reason,
    });
  }
  return true;
}

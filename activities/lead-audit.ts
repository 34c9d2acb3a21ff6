import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { leadEvents, leads } from '../db/schema.js';

export interface LeadProjection {
  email: string;
  company: string;
  icpTier: number;
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
 * Appends the event and moves the projection forward in one transaction. A retry finds the event's
 * idempotency key taken and writes nothing; an older event never overwrites a newer projection.
 */
export async function recordLeadEvent(db: Database, event: LeadAuditEvent): Promise<{ written: boolean }> {
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(leadEvents)
      .values({
        leadId: event.leadId,
        workflowId: event.workflowId,
        idempotencyKey: leadEventIdempotencyKey(event),
        seq: event.seq,
        type: event.type,
        at: new Date(event.at),
        actor: event.actor,
        payload: event.payload,
      })
      .onConflictDoNothing({ target: leadEvents.idempotencyKey })
      .returning({ id: leadEvents.id });
    if (inserted.length === 0) return { written: false };

    const at = new Date(event.at);
    const row = { ...event.projection, workflowId: event.workflowId, lastEventSeq: event.seq, updatedAt: at };
    await tx
      .insert(leads)
      .values({ leadId: event.leadId, createdAt: at, ...row })
      .onConflictDoUpdate({
        target: leads.leadId,
        set: row,
        setWhere: sql`${leads.lastEventSeq} < ${event.seq}`,
      });
    return { written: true };
  });
}

import { eq, sql } from 'drizzle-orm';
import { appendInOneTransaction, type Database, type Transaction } from '../db/client.js';
import { dealEvents, dealMilestones, deals, queues, reps } from '../db/schema.js';
import type { MilestoneRecord } from '../domain/deal-clocks.js';

export interface DealProjection {
  accountName: string;
  amount: number;
  currency: string;
  salesOwnerId: string;
  csOwnerId: string | null;
  leadId: string | null;
  stage: string;
  handoffState: string;
  policyVersion: string;
  signedAt: string;
  closedWonAt: string;
}

/** One audit event, the deal's state right after it, and the milestones it changed. */
export interface DealAuditEvent {
  workflowId: string;
  dealId: string;
  seq: number;
  stepKey: string;
  type: string;
  at: string;
  actor: string;
  payload: Record<string, unknown>;
  projection: DealProjection;
  milestones: MilestoneRecord[];
}

export function dealEventIdempotencyKey(event: Pick<DealAuditEvent, 'workflowId' | 'stepKey'>): string {
  return `${event.workflowId}:${event.stepKey}`;
}

const instant = (value: string | null): Date | null => (value === null ? null : new Date(value));

/**
 * Appends a step's events in order, and moves the deal projection and the milestones each carries forward,
 * all in one transaction, so the audit never holds half a step. A retry finds each event's idempotency key
 * taken and writes nothing for it; a row already written by a later event is never rolled back by an older one.
 */
export function recordDealEvents(db: Database, events: readonly DealAuditEvent[]): Promise<{ written: number }> {
  return appendInOneTransaction(db, events, appendDealEvent);
}

async function appendDealEvent(tx: Transaction, event: DealAuditEvent): Promise<boolean> {
  const inserted = await tx
    .insert(dealEvents)
    .values({
      dealId: event.dealId,
      workflowId: event.workflowId,
      idempotencyKey: dealEventIdempotencyKey(event),
      seq: event.seq,
      type: event.type,
      at: new Date(event.at),
      actor: event.actor,
      payload: event.payload,
    })
    .onConflictDoNothing({ target: dealEvents.idempotencyKey })
    .returning({ id: dealEvents.id });
  if (inserted.length === 0) return false;

  const at = new Date(event.at);
  const { projection } = event;
  const row = {
    ...projection,
    signedAt: new Date(projection.signedAt),
    closedWonAt: new Date(projection.closedWonAt),
    workflowId: event.workflowId,
    lastEventSeq: event.seq,
    updatedAt: at,
  };
  await tx
    .insert(deals)
    .values({ dealId: event.dealId, createdAt: at, ...row })
    .onConflictDoUpdate({ target: deals.dealId, set: row, setWhere: sql`${deals.lastEventSeq} < ${event.seq}` });

  for (const milestone of event.milestones) {
    const values = {
      kind: milestone.kind,
      workflowId: event.workflowId,
      startedAt: new Date(milestone.startedAt),
      dueAt: new Date(milestone.dueAt),
      doneAt: instant(milestone.doneAt),
      actor: milestone.actor,
      breached: milestone.breached,
      businessMinutesTaken: milestone.businessMinutesTaken,
      businessMinutesLate: milestone.businessMinutesLate,
      lastEventSeq: event.seq,
      updatedAt: at,
    };
    await tx
      .insert(dealMilestones)
      .values({ dealId: event.dealId, milestone: milestone.milestone, ...values })
      .onConflictDoUpdate({
        target: [dealMilestones.dealId, dealMilestones.milestone],
        set: values,
        setWhere: sql`${dealMilestones.lastEventSeq} < ${event.seq}`,
      });
  }
  return true;
}

export interface DealManagersInput {
  salesOwnerId: string;
  csQueueId: string;
}

export interface DealManagers {
  /** The sales owner's manager (reps.managerId), or null when the rep or their manager is unknown. */
  salesManagerId: string | null;
  /** The CS queue's manager, or null when the queue or its manager is unknown. */
  csManagerId: string | null;
}

/** Who a missed milestone escalates to, read when the escalation fires so a change of manager is honoured. */
export async function lookupDealManagers(db: Database, input: DealManagersInput): Promise<DealManagers> {
  const [rep] = await db.select({ managerId: reps.managerId }).from(reps).where(eq(reps.repId, input.salesOwnerId));
  const [queue] = await db.select({ managerId: queues.managerId }).from(queues).where(eq(queues.queueId, input.csQueueId));
  return { salesManagerId: rep?.managerId ?? null, csManagerId: queue?.managerId ?? null };
}

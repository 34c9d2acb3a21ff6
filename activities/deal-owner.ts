import { ApplicationFailure } from '@temporalio/common';
import { and, count, eq, inArray, notInArray } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { dealCsAssignments, deals, queues } from '../db/schema.js';
import { chooseOwner, NO_AVAILABLE_REP, NoAvailableRepError, type RoutingStrategy } from '../domain/routing.js';
import { queueMembersOf, type Executor } from './routing.js';

export interface AssignCsOwnerInput {
  /** The deal's workflow ID + step key: a retried draw finds its assignment and changes nothing. */
  idempotencyKey: string;
  dealId: string;
  csQueueId: string;
  /** ISO instant: workflow time of the draw (out-of-office is judged at this instant). */
  at: string;
}

export interface CsOwnerAssignment {
  repId: string;
  queueId: string;
  reason: string;
  managerId: string | null;
}

/** Stages in which a deal counts towards its CS owner's load. */
const closedDealStages = ['CLOSED_OUT', 'COMPLETED'];

/**
 * Draws a deal's CS owner from the CS queue (its rotation, out-of-office and inactive reps skipped, the
 * least loaded by open deals) and records the choice once per idempotency key, holding the queue's row lock
 * so two deals drawn at once see each other's turn.
 */
export async function assignDealCsOwner(db: Database, input: AssignCsOwnerInput): Promise<CsOwnerAssignment> {
  const existing = await findCsAssignment(db, input.idempotencyKey);
  if (existing) return existing;
  const at = new Date(input.at);
  return db.transaction(async (tx) => {
    const [queue] = await tx
      .select({ queueId: queues.queueId, strategy: queues.strategy, managerId: queues.managerId, lastAssignedRepId: queues.lastAssignedRepId })
      .from(queues)
      .where(eq(queues.queueId, input.csQueueId))
      .for('update');
    if (!queue) throw noCsRep(input, `queue ${input.csQueueId} does not exist; create it (POST /queues) or fix the policy's deal.csQueueId`);
    const members = await queueMembersOf(tx, queue.queueId, (repIds) => openDealCounts(tx, repIds, input.dealId));
    let choice;
    try {
      choice = chooseOwner({
        queue: { id: queue.queueId, strategy: queue.strategy as RoutingStrategy, members, lastAssignedRepId: queue.lastAssignedRepId },
        // CS owners come from the rotation alone: no account ownership, no tier priority.
        lead: { tier: 2, hot: false, company: '' },
        at,
        accountOwner: null,
      });
    } catch (error) {
      if (error instanceof NoAvailableRepError) throw noCsRep(input, `${error.detail}; activate members or add reps (PUT /queues/${queue.queueId}/members)`);
      throw error;
    }
    const inserted = await tx
      .insert(dealCsAssignments)
      .values({ idempotencyKey: input.idempotencyKey, dealId: input.dealId, queueId: queue.queueId, repId: choice.repId, reason: choice.reason, managerId: queue.managerId, assignedAt: at })
      .onConflictDoNothing({ target: dealCsAssignments.idempotencyKey })
      .returning({ repId: dealCsAssignments.repId });
    if (inserted.length === 0) {
      const winner = await findCsAssignment(tx, input.idempotencyKey);
      if (!winner) throw new Error(`deal_cs_assignments row ${input.idempotencyKey} conflicted but cannot be read`);
      return winner;
    }
    await tx.update(queues).set({ lastAssignedRepId: choice.repId }).where(eq(queues.queueId, queue.queueId));
    return { repId: choice.repId, queueId: queue.queueId, reason: choice.reason, managerId: queue.managerId };
  });
}

async function findCsAssignment(db: Executor, idempotencyKey: string): Promise<CsOwnerAssignment | undefined> {
  const [row] = await db
    .select({ repId: dealCsAssignments.repId, queueId: dealCsAssignments.queueId, reason: dealCsAssignments.reason, managerId: dealCsAssignments.managerId })
    .from(dealCsAssignments)
    .where(eq(dealCsAssignments.idempotencyKey, idempotencyKey));
  return row;
}

async function openDealCounts(db: Executor, repIds: string[], dealId: string): Promise<Map<string, number>> {
  if (repIds.length === 0) return new Map();
  const rows = await db
    .select({ csOwnerId: deals.csOwnerId, open: count() })
    .from(deals)
    .where(and(inArray(deals.csOwnerId, repIds), notInArray(deals.stage, closedDealStages), notInArray(deals.dealId, [dealId])))
    .groupBy(deals.csOwnerId);
  return new Map(rows.map((row) => [row.csOwnerId!, Number(row.open)]));
}

function noCsRep(input: AssignCsOwnerInput, why: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`no CS rep available for deal ${input.dealId}: ${why}`, NO_AVAILABLE_REP, { queueId: input.csQueueId, dealId: input.dealId });
}

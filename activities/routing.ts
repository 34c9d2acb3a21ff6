import { ApplicationFailure } from '@temporalio/common';
import { and, asc, count, desc, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { leadAssignments, leads, queueMembers, queues, reps } from '../db/schema.js';
import {
  chooseOwner,
  chooseQueue,
  NO_AVAILABLE_REP,
  NoAvailableRepError,
  type OwnerChoice,
  type RoutingLead,
  type RoutingRep,
  type RoutingRule,
  type RoutingStrategy,
} from '../domain/routing.js';

export { NO_AVAILABLE_REP };

/** Stages in which a lead counts towards its owner's load and marks its company as owned. */
export const openLeadStages = ['MQL', 'SAL', 'SQL'] as const;

export interface RouteLeadInput {
  /** Workflow ID + step key: a retried activity finds its assignment and changes nothing. */
  idempotencyKey: string;
  leadId: string;
  lead: RoutingLead;
  /** From the lead's policy snapshot. */
  rules: RoutingRule[];
  fallbackQueueId: string;
  /** ISO instant: workflow time of the routing decision. */
  at: string;
  /** Reps who must not get the lead, e.g. its current owner on reassignment. */
  exclude?: string[];
  /** A manager's explicit choice on manual reassignment: used if that rep exists and is active. */
  preferredRepId?: string;
  /** A manager's choice of queue on manual reassignment (another team or region), in place of the routing rules. */
  queueId?: string;
  /** The lead's rep before it went back to nurture: it returns to them while they are active and in office. */
  returningOwnerId?: string;
}

export interface RouteLeadResult {
  repId: string;
  queueId: string;
  reason: string;
  managerId: string | null;
}

/** Reason recorded when a manager picked the rep by hand. */
export const MANAGER_CHOICE = 'manager-choice';

export type Executor = Database | Transaction;

/**
 * Picks the lead's queue and owner and records the choice once per idempotency key. The decision runs in
 * one transaction holding the queue's row lock, so two leads routed at once through the same round-robin
 * queue see each other's turn; a retry (or a concurrent duplicate) returns the assignment already written.
 */
export async function routeLead(db: Database, input: RouteLeadInput): Promise<RouteLeadResult> {
  const existing = await findAssignment(db, input.idempotencyKey);
  if (existing) return existing;

  const at = new Date(input.at);
  if (Number.isNaN(at.getTime())) {
    throw ApplicationFailure.nonRetryable(`routeLead for lead ${input.leadId}: "at" is not an ISO instant (${input.at})`, 'InvalidRoutingInput');
  }
  const queueId = input.queueId ?? chooseQueue(input.rules, input.fallbackQueueId, input.lead);

  return db.transaction(async (tx) => {
    // What the choice reads besides the rotation pointer is read before the queue's lock, so concurrent
    // routings in one queue wait on each other only for the pointer: read, choose, record, move it.
    const preferred = input.preferredRepId === undefined ? null : await tx.select({ active: reps.active, managerId: reps.managerId }).from(reps).where(eq(reps.repId, input.preferredRepId));
    const members = preferred ? [] : await queueMembersOf(tx, queueId, (repIds) => openLeadCounts(tx, repIds, input.leadId));
    const accountOwner = preferred ? null : await accountOwnerOf(tx, input.lead.company, input.leadId);
    const returningOwner = preferred || !input.returningOwnerId ? null : await repById(tx, input.returningOwnerId, input.leadId);
    const [queue] = await tx
      .select({ queueId: queues.queueId, strategy: queues.strategy, managerId: queues.managerId, lastAssignedRepId: queues.lastAssignedRepId })
      .from(queues)
      .where(eq(queues.queueId, queueId))
      .for('update');

    let choice: { repId: string; queueId: string; reason: string };
    let managerId: string | null;
    let advancesRotation: boolean;

    if (input.preferredRepId !== undefined) {
      const [rep] = preferred!;
      if (!rep || !rep.active) {
        throw noAvailableRep(
          queueId,
          input.leadId,
          `the manager's chosen rep ${input.preferredRepId} ${rep ? 'is inactive' : 'does not exist'}; ` +
            `activate the rep (PATCH /reps/${input.preferredRepId}) or choose another`,
        );
      }
      choice = { repId: input.preferredRepId, queueId, reason: MANAGER_CHOICE };
      managerId = queue ? queue.managerId : rep.managerId;
      // A hand-picked owner does not take a turn in the queue's rotation.
      advancesRotation = false;
    } else {
      if (!queue) {
        throw noAvailableRep(queueId, input.leadId, `queue ${queueId} does not exist; create it (POST /queues) or fix the policy's routing rules`);
      }
      let owner: OwnerChoice;
      try {
        owner = chooseOwner({
          queue: {
            id: queue.queueId,
            strategy: queue.strategy as RoutingStrategy,
            members,
            lastAssignedRepId: queue.lastAssignedRepId,
          },
          lead: input.lead,
          at,
          accountOwner,
          returningOwner,
          exclude: input.exclude,
        });
      } catch (error) {
        if (error instanceof NoAvailableRepError) {
          throw noAvailableRep(queueId, input.leadId, `${error.detail}; activate members, end their out-of-office or add reps (PUT /queues/${queueId}/members)`);
        }
        if (error instanceof RangeError) {
          // A malformed instant (the decision time or a stored absence) fails the same way on every retry.
          throw ApplicationFailure.nonRetryable(`routeLead for lead ${input.leadId} in queue ${queueId}: ${error.message}`, 'InvalidRoutingInput');
        }
        throw error;
      }
      choice = owner;
      managerId = queue.managerId;
      advancesRotation = owner.reason !== 'account-owner' && owner.reason !== 'returning-owner';
    }

    const inserted = await tx
      .insert(leadAssignments)
      .values({
        idempotencyKey: input.idempotencyKey,
        leadId: input.leadId,
        queueId: choice.queueId,
        repId: choice.repId,
        reason: choice.reason,
        managerId,
        assignedAt: at,
      })
      .onConflictDoNothing({ target: leadAssignments.idempotencyKey })
      .returning({ repId: leadAssignments.repId });

    if (inserted.length === 0) {
      // Another attempt with this key won the race: its choice stands and ours changes nothing.
      const winner = await findAssignment(tx, input.idempotencyKey);
      if (!winner) throw new Error(`lead_assignments row ${input.idempotencyKey} conflicted but cannot be read`);
      return winner;
    }
    if (advancesRotation) {
      await tx.update(queues).set({ lastAssignedRepId: choice.repId }).where(eq(queues.queueId, choice.queueId));
    }
    return { repId: choice.repId, queueId: choice.queueId, reason: choice.reason, managerId };
  });
}

async function findAssignment(db: Executor, idempotencyKey: string): Promise<RouteLeadResult | undefined> {
  const [row] = await db
    .select({ repId: leadAssignments.repId, queueId: leadAssignments.queueId, reason: leadAssignments.reason, managerId: leadAssignments.managerId })
    .from(leadAssignments)
    .where(eq(leadAssignments.idempotencyKey, idempotencyKey));
  return row;
}

/** Members in rotation order, each with the load `loadOf` counts for them (open leads, or open deals for CS). */
export async function queueMembersOf(
  db: Executor,
  queueId: string,
  loadOf: (repIds: string[]) => Promise<Map<string, number>>,
): Promise<RoutingRep[]> {
  const rows = await db
    .select({ repId: reps.repId, seniority: reps.seniority, active: reps.active, outOfOffice: reps.outOfOffice })
    .from(queueMembers)
    .innerJoin(reps, eq(reps.repId, queueMembers.repId))
    .where(eq(queueMembers.queueId, queueId))
    .orderBy(asc(queueMembers.position), asc(queueMembers.repId));
  const load = await loadOf(rows.map((row) => row.repId));
  return rows.map((row) => toRoutingRep(row, load.get(row.repId) ?? 0));
}

async function openLeadCounts(db: Executor, repIds: string[], leadId: string): Promise<Map<string, number>> {
  if (repIds.length === 0) return new Map();
  const rows = await db
    .select({ ownerId: leads.ownerId, open: count() })
    .from(leads)
    .where(and(inArray(leads.ownerId, repIds), inArray(leads.stage, [...openLeadStages]), ne(leads.leadId, leadId)))
    .groupBy(leads.ownerId);
  return new Map(rows.map((row) => [row.ownerId!, Number(row.open)]));
}

/** The known rep who owns another open lead of the same company (case-insensitive), most recently updated first. */
async function accountOwnerOf(db: Executor, company: string, leadId: string): Promise<RoutingRep | null> {
  // A lead without a company (flagged at intake) belongs to no account: it must not match the others without one.
  if (company.trim().length === 0) return null;
  const [row] = await db
    .select({ repId: reps.repId, seniority: reps.seniority, active: reps.active, outOfOffice: reps.outOfOffice })
    .from(leads)
    .innerJoin(reps, eq(reps.repId, leads.ownerId))
    .where(
      and(
        sql`lower(${leads.company}) = lower(${company.trim()})`,
        ne(leads.leadId, leadId),
        isNotNull(leads.ownerId),
        inArray(leads.stage, [...openLeadStages]),
      ),
    )
    .orderBy(desc(leads.updatedAt), asc(leads.leadId))
    .limit(1);
  if (!row) return null;
  const load = await openLeadCounts(db, [row.repId], leadId);
  return toRoutingRep(row, load.get(row.repId) ?? 0);
}

async function repById(db: Executor, repId: string, leadId: string): Promise<RoutingRep | null> {
  const [row] = await db
    .select({ repId: reps.repId, seniority: reps.seniority, active: reps.active, outOfOffice: reps.outOfOffice })
    .from(reps)
    .where(eq(reps.repId, repId));
  if (!row) return null;
  const load = await openLeadCounts(db, [row.repId], leadId);
  return toRoutingRep(row, load.get(row.repId) ?? 0);
}

function toRoutingRep(
  row: { repId: string; seniority: string; active: boolean; outOfOffice: Array<{ from: string; to: string }> },
  openLeads: number,
): RoutingRep {
  return {
    id: row.repId,
    seniority: row.seniority === 'senior' ? 'senior' : 'junior',
    active: row.active,
    outOfOffice: row.outOfOffice ?? [],
    openLeads,
  };
}

function noAvailableRep(queueId: string, leadId: string, why: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`no rep available for lead ${leadId} in queue ${queueId}: ${why}`, NO_AVAILABLE_REP, {
    queueId,
    leadId,
  });
}

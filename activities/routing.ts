import { ApplicationFailure } from '@temporalio/common';
import { asc, eq, sql, type SQL } from 'drizzle-orm';
import { firstRow, type Database, type Transaction } from '../db/client.js';
import { queueMembers, reps } from '../db/schema.js';
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
 * Picks the lead's queue and owner and records the choice once per idempotency key. Usually two statements:
 * one reads everything the choice needs, one records it, and records a choice that takes the queue's turn
 * only while the rotation pointer is still the one it was made from. When another lead took the turn in
 * between, the routing is made again holding the queue row's lock from the read to the record, so under
 * contention routings in one queue take turns instead of retrying. A retry (or a concurrent duplicate)
 * returns the assignment already written.
 */
export async function routeLead(db: Database, input: RouteLeadInput): Promise<RouteLeadResult> {
  const at = new Date(input.at);
  if (Number.isNaN(at.getTime())) {
    throw ApplicationFailure.nonRetryable(`routeLead for lead ${input.leadId}: "at" is not an ISO instant (${input.at})`, 'InvalidRoutingInput');
  }
  const queueId = input.queueId ?? chooseQueue(input.rules, input.fallbackQueueId, input.lead);
  const optimistic = await routeOnce(db, input, queueId, at, { lockQueue: false });
  if (optimistic) return optimistic;
  const locked = await db.transaction((tx) => routeOnce(tx, input, queueId, at, { lockQueue: true }));
  if (!locked) throw new Error(`routeLead for lead ${input.leadId}: queue ${queueId} changed turns while its row was locked`);
  return locked;
}

/** One read and one record; undefined when another lead took the queue's turn in between (never under the lock). */
async function routeOnce(db: Executor, input: RouteLeadInput, queueId: string, at: Date, options: { lockQueue: boolean }): Promise<RouteLeadResult | undefined> {
  const facts = await readRoutingFacts(db, input, queueId, options.lockQueue);
  if (facts.existing) return facts.existing;
  const decision = decide(input, queueId, at, facts);
  const outcome = await recordAssignment(db, input, at, decision, facts.queue?.lastAssignedRepId ?? null);
  if (outcome === 'recorded') return decision.result;
  if (outcome === 'turn-taken') return undefined;
  // Another attempt with this key won the race: its choice stands and ours changes nothing.
  const winner = firstRow<RouteLeadResult>(await db.execute(assignmentByKey(input.idempotencyKey)));
  if (!winner) throw new Error(`lead_assignments row ${input.idempotencyKey} conflicted but cannot be read`);
  return winner;
}

interface RepRow {
  repId: string;
  seniority: string;
  active: boolean;
  outOfOffice: Array<{ from: string; to: string }> | null;
  openLeads: number;
}

interface RoutingFacts {
  existing: RouteLeadResult | null;
  queue: { queueId: string; strategy: string; managerId: string | null; lastAssignedRepId: string | null } | null;
  preferred: { active: boolean; managerId: string | null } | null;
  members: RepRow[];
  accountOwner: RepRow | null;
  returningOwner: RepRow | null;
}

const openStages = sql.join(
  openLeadStages.map((stage) => sql`${stage}`),
  sql`, `,
);

/**
 * Everything a routing decision reads, in one statement: an assignment already recorded under the key, the
 * queue and its members in rotation order, the account's owner, the returning owner, the manager's chosen rep,
 * and the open leads of each candidate (this lead left out).
 */
async function readRoutingFacts(db: Executor, input: RouteLeadInput, queueId: string, lockQueue: boolean): Promise<RoutingFacts> {
  const company = input.lead.company.trim();
  const row = firstRow<RoutingFacts>(
    await db.execute(sql`
      with
        queue_row as (
          select queue_id, strategy, manager_id, last_assigned_rep_id from queues where queue_id = ${queueId} ${lockQueue ? sql`for update` : sql``}),
        member_reps as (
          select r.rep_id, r.seniority, r.active, r.out_of_office, m.position
          from queue_members m join reps r on r.rep_id = m.rep_id
          where m.queue_id = ${queueId}),
        account_rep as (
          select r.rep_id, r.seniority, r.active, r.out_of_office
          from leads l join reps r on r.rep_id = l.owner_id
          -- A lead without a company (flagged at intake) belongs to no account: it must not match the others without one.
          where ${company} <> '' and lower(l.company) = lower(${company}) and l.lead_id <> ${input.leadId}
            and l.owner_id is not null and l.stage in (${openStages})
          order by l.updated_at desc, l.lead_id asc
          limit 1),
        returning_rep as (
          select rep_id, seniority, active, out_of_office from reps where rep_id = ${input.returningOwnerId ?? null}::text),
        loads as (
          select owner_id, count(*)::int as open_leads from leads
          where owner_id in (select rep_id from member_reps union select rep_id from account_rep union select rep_id from returning_rep)
            and stage in (${openStages}) and lead_id <> ${input.leadId}
          group by owner_id)
      select
        (select json_build_object('repId', rep_id, 'queueId', queue_id, 'reason', reason, 'managerId', manager_id)
           from lead_assignments where idempotency_key = ${input.idempotencyKey}) as existing,
        (select json_build_object('queueId', queue_id, 'strategy', strategy, 'managerId', manager_id, 'lastAssignedRepId', last_assigned_rep_id)
           from queue_row) as queue,
        (select json_build_object('active', active, 'managerId', manager_id) from reps where rep_id = ${input.preferredRepId ?? null}::text) as preferred,
        coalesce((select json_agg(${repJson(sql`member_reps`)} order by member_reps.position, member_reps.rep_id)
           from member_reps left join loads on loads.owner_id = member_reps.rep_id), '[]'::json) as members,
        (select ${repJson(sql`account_rep`)} from account_rep left join loads on loads.owner_id = account_rep.rep_id) as "accountOwner",
        (select ${repJson(sql`returning_rep`)} from returning_rep left join loads on loads.owner_id = returning_rep.rep_id) as "returningOwner"`),
  );
  if (!row) throw new Error(`routeLead for lead ${input.leadId}: the routing read answered no row`);
  return row;
}

function repJson(table: SQL): SQL {
  return sql`json_build_object('repId', ${table}.rep_id, 'seniority', ${table}.seniority, 'active', ${table}.active, 'outOfOffice', ${table}.out_of_office, 'openLeads', coalesce(loads.open_leads, 0))`;
}

interface Decision {
  result: RouteLeadResult;
  /** Whether the choice takes the queue's turn (moves its rotation pointer). */
  advancesRotation: boolean;
}

function decide(input: RouteLeadInput, queueId: string, at: Date, facts: RoutingFacts): Decision {
  const { queue } = facts;
  if (input.preferredRepId !== undefined) {
    const rep = facts.preferred;
    if (!rep || !rep.active) {
      throw noAvailableRep(
        queueId,
        input.leadId,
        `the manager's chosen rep ${input.preferredRepId} ${rep ? 'is inactive' : 'does not exist'}; ` +
          `activate the rep (PATCH /reps/${input.preferredRepId}) or choose another`,
      );
    }
    // A hand-picked owner does not take a turn in the queue's rotation.
    return {
      result: { repId: input.preferredRepId, queueId, reason: MANAGER_CHOICE, managerId: queue ? queue.managerId : rep.managerId },
      advancesRotation: false,
    };
  }
  if (!queue) {
    throw noAvailableRep(queueId, input.leadId, `queue ${queueId} does not exist; create it (POST /queues) or fix the policy's routing rules`);
  }
  let owner: OwnerChoice;
  try {
    owner = chooseOwner({
      queue: { id: queue.queueId, strategy: queue.strategy as RoutingStrategy, members: facts.members.map(toRoutingRep), lastAssignedRepId: queue.lastAssignedRepId },
      lead: input.lead,
      at,
      accountOwner: facts.accountOwner && toRoutingRep(facts.accountOwner),
      returningOwner: facts.returningOwner && toRoutingRep(facts.returningOwner),
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
  return {
    result: { repId: owner.repId, queueId: owner.queueId, reason: owner.reason, managerId: queue.managerId },
    advancesRotation: owner.reason !== 'account-owner' && owner.reason !== 'returning-owner',
  };
}

/**
 * Records the decision in one statement. A choice that takes the queue's turn is written only while the
 * queue's pointer is still `pointerRead`: the row lock makes a concurrent routing wait, and Postgres re-reads
 * the row it waited for, so a turn taken meanwhile fails the check instead of handing two leads one turn.
 */
async function recordAssignment(
  db: Executor,
  input: RouteLeadInput,
  at: Date,
  decision: Decision,
  pointerRead: string | null,
): Promise<'recorded' | 'key-taken' | 'turn-taken'> {
  const { result, advancesRotation } = decision;
  const row = firstRow<{ recorded: boolean; turn: boolean }>(
    await db.execute(sql`
      with
        turn as (
          select queue_id from queues
          where ${advancesRotation} and queue_id = ${result.queueId} and last_assigned_rep_id is not distinct from ${pointerRead}::text
          for update),
        recorded as (
          insert into lead_assignments (idempotency_key, lead_id, queue_id, rep_id, reason, manager_id, assigned_at)
          select ${input.idempotencyKey}, ${input.leadId}, ${result.queueId}, ${result.repId}, ${result.reason}, ${result.managerId}::text, ${at.toISOString()}::timestamptz
          where not ${advancesRotation} or exists (select 1 from turn)
          on conflict (idempotency_key) do nothing
          returning rep_id),
        moved as (
          update queues set last_assigned_rep_id = ${result.repId}
          where ${advancesRotation} and queue_id = ${result.queueId} and exists (select 1 from recorded)
          returning queue_id)
      select exists (select 1 from recorded) as recorded, (not ${advancesRotation} or exists (select 1 from turn)) as turn`),
  );
  if (row?.recorded) return 'recorded';
  return row?.turn ? 'key-taken' : 'turn-taken';
}

const assignmentByKey = (idempotencyKey: string) =>
  sql`select rep_id as "repId", queue_id as "queueId", reason, manager_id as "managerId" from lead_assignments where idempotency_key = ${idempotencyKey}`;

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
  return rows.map((row) => toRoutingRep({ ...row, openLeads: load.get(row.repId) ?? 0 }));
}

function toRoutingRep(row: RepRow): RoutingRep {
  return {
    id: row.repId,
    seniority: row.seniority === 'senior' ? 'senior' : 'junior',
    active: row.active,
    outOfOffice: row.outOfOffice ?? [],
    openLeads: row.openLeads,
  };
}

function noAvailableRep(queueId: string, leadId: string, why: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`no rep available for lead ${leadId} in queue ${queueId}: ${why}`, NO_AVAILABLE_REP, {
    queueId,
    leadId,
  });
}

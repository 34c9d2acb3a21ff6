import { eq, sql, type SQL } from 'drizzle-orm';
import { firstRow, type Database } from '../db/client.js';
import { queues, reps } from '../db/schema.js';
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


/**
 * Appends a step's events in order, and moves the deal projection and the milestones they carry forward, in
 * ONE statement (one round trip, atomic like a transaction), so the audit never holds half a step. A retry
 * finds each event's idempotency key taken and writes nothing for it; a row already written by a later event
 * is never rolled back by an older one. The projection, and each milestone, take the newest event the
 * statement wrote that carries them: the same rows as writing the events one by one. `carried`, as for
 * recordLeadEvents: the notifications the events cause, on record in the same statement.
 */
export async function recordDealEvents(db: Database, events: readonly DealAuditEvent[], carried?: SQL): Promise<{ written: number; recorded?: string[] }> {
  if (events.length === 0 && carried === undefined) return { written: 0 };
  const rows = events.map((event) => ({
    idempotency_key: dealEventIdempotencyKey(event),
    deal_id: event.dealId,
    workflow_id: event.workflowId,
    seq: event.seq,
    type: event.type,
    at: event.at,
    actor: event.actor,
    payload: event.payload,
    account_name: event.projection.accountName,
    amount: event.projection.amount,
    currency: event.projection.currency,
    sales_owner_id: event.projection.salesOwnerId,
    cs_owner_id: event.projection.csOwnerId,
    lead_id: event.projection.leadId,
    stage: event.projection.stage,
    handoff_state: event.projection.handoffState,
    policy_version: event.projection.policyVersion,
    signed_at: event.projection.signedAt,
    closed_won_at: event.projection.closedWonAt,
    milestones: event.milestones.map((milestone) => ({
      milestone: milestone.milestone,
      kind: milestone.kind,
      started_at: milestone.startedAt,
      due_at: milestone.dueAt,
      done_at: milestone.doneAt,
      actor: milestone.actor,
      breached: milestone.breached,
      business_minutes_taken: milestone.businessMinutesTaken,
      business_minutes_late: milestone.businessMinutesLate,
    })),
  }));
  const result = await db.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as e(
        idempotency_key text, deal_id text, workflow_id text, seq integer, type text, at timestamptz, actor text, payload jsonb,
        account_name text, amount numeric, currency text, sales_owner_id text, cs_owner_id text, lead_id text, stage text,
        handoff_state text, policy_version text, signed_at timestamptz, closed_won_at timestamptz, milestones jsonb)
    ),
    inserted as (
      insert into deal_events (deal_id, workflow_id, idempotency_key, seq, type, at, actor, payload)
      select deal_id, workflow_id, idempotency_key, seq, type, at, actor, payload from input order by seq
      on conflict (idempotency_key) do nothing
      returning idempotency_key
    ),
    written as (
      select input.* from input join inserted using (idempotency_key)
    ),
    projection as (
      insert into deals as d (deal_id, account_name, amount, currency, sales_owner_id, cs_owner_id, lead_id, stage, handoff_state,
        policy_version, signed_at, closed_won_at, workflow_id, last_event_seq, created_at, updated_at)
      select deal_id, account_name, amount, currency, sales_owner_id, cs_owner_id, lead_id, stage, handoff_state,
        policy_version, signed_at, closed_won_at, workflow_id, seq, at, at
      from written order by seq desc limit 1
      on conflict (deal_id) do update set
        account_name = excluded.account_name, amount = excluded.amount, currency = excluded.currency,
        sales_owner_id = excluded.sales_owner_id, cs_owner_id = excluded.cs_owner_id, lead_id = excluded.lead_id,
        stage = excluded.stage, handoff_state = excluded.handoff_state, policy_version = excluded.policy_version,
        signed_at = excluded.signed_at, closed_won_at = excluded.closed_won_at, workflow_id = excluded.workflow_id,
        last_event_seq = excluded.last_event_seq, updated_at = excluded.updated_at
      where d.last_event_seq < excluded.last_event_seq
    ),
    milestones as (
      insert into deal_milestones as m (deal_id, milestone, kind, workflow_id, started_at, due_at, done_at, actor, breached,
        business_minutes_taken, business_minutes_late, last_event_seq, updated_at)
      select distinct on (r.milestone) written.deal_id, r.milestone, r.kind, written.workflow_id, r.started_at, r.due_at, r.done_at,
        r.actor, r.breached, r.business_minutes_taken, r.business_minutes_late, written.seq, written.at
      from written cross join lateral jsonb_to_recordset(written.milestones) as r(
        milestone text, kind text, started_at timestamptz, due_at timestamptz, done_at timestamptz, actor text, breached boolean,
        business_minutes_taken double precision, business_minutes_late double precision)
      order by r.milestone, written.seq desc
      on conflict (deal_id, milestone) do update set
        kind = excluded.kind, workflow_id = excluded.workflow_id, started_at = excluded.started_at, due_at = excluded.due_at,
        done_at = excluded.done_at, actor = excluded.actor, breached = excluded.breached,
        business_minutes_taken = excluded.business_minutes_taken, business_minutes_late = excluded.business_minutes_late,
        last_event_seq = excluded.last_event_seq, updated_at = excluded.updated_at
      where m.last_event_seq < excluded.last_event_seq
    )
    ${carried === undefined ? sql`` : sql`, recorded as (${carried})`}
    select count(*)::int as written${carried === undefined ? sql`` : sql`, array(select idempotency_key from recorded) as recorded`} from inserted`);
  const row = firstRow<{ written: number; recorded?: string[] }>(result);
  return carried === undefined ? { written: row?.written ?? 0 } : { written: row?.written ?? 0, recorded: row?.recorded ?? [] };
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

import { sql, type SQL } from 'drizzle-orm';
import { firstRow, type Database } from '../db/client.js';
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
 * Appends a step's events in order and moves the projection forward, in ONE statement (one round trip, atomic
 * like a transaction), so the audit never holds half a step. A retry finds each event's idempotency key taken
 * and writes nothing for it; an older event never overwrites a newer projection. The projection takes the
 * newest event the statement wrote: the same row as writing them one by one, each newer than the last.
 * `carried` (Notifier.recordBatch) puts the notifications the events cause on record in the same statement, and
 * `recorded` answers the keys it wrote.
 */
export async function recordLeadEvents(db: Database, events: readonly LeadAuditEvent[], carried?: SQL): Promise<{ written: number; recorded?: string[] }> {
  if (events.length === 0 && carried === undefined) return { written: 0 };
  const rows = events.map((event) => {
    const { source, ...projection } = event.projection;
    const fact = leadReportFact(event.type, event.payload);
    return {
      idempotency_key: leadEventIdempotencyKey(event),
      lead_id: event.leadId,
      workflow_id: event.workflowId,
      seq: event.seq,
      type: event.type,
      at: event.at,
      actor: event.actor,
      payload: event.payload,
      email: projection.email,
      company: projection.company,
      icp_tier: projection.icpTier,
      // Events scheduled before the field existed carry no source: they keep the stored one.
      has_source: source !== undefined,
      source: source ?? null,
      stage: projection.stage,
      owner_id: projection.ownerId,
      score: projection.score,
      policy_version: projection.policyVersion,
      fact_type: fact?.type ?? null,
      counts: fact?.counts ?? null,
      business_minutes: fact?.businessMinutes ?? null,
      met_late: fact?.metLate ?? null,
      clock_started_at: fact?.clockStartedAt ?? null,
      reason: fact?.reason ?? null,
    };
  });
  const result = await db.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as e(
        idempotency_key text, lead_id text, workflow_id text, seq integer, type text, at timestamptz, actor text, payload jsonb,
        email text, company text, icp_tier integer, has_source boolean, source text, stage text, owner_id text, score integer,
        policy_version text, fact_type text, counts boolean, business_minutes double precision, met_late boolean,
        clock_started_at timestamptz, reason text)
    ),
    inserted as (
      insert into lead_events (lead_id, workflow_id, idempotency_key, seq, type, at, actor, payload)
      select lead_id, workflow_id, idempotency_key, seq, type, at, actor, payload from input order by seq
      on conflict (idempotency_key) do nothing
      returning id, idempotency_key
    ),
    latest as (
      select input.* from input join inserted using (idempotency_key) order by input.seq desc limit 1
    ),
    projection as (
      insert into leads as l (lead_id, workflow_id, email, company, icp_tier, source, stage, owner_id, score, policy_version, last_event_seq, created_at, updated_at)
      select lead_id, workflow_id, email, company, icp_tier, source, stage, owner_id, score, policy_version, seq, at, at from latest
      on conflict (lead_id) do update set
        workflow_id = excluded.workflow_id, email = excluded.email, company = excluded.company, icp_tier = excluded.icp_tier,
        source = case when (select has_source from latest) then excluded.source else l.source end,
        stage = excluded.stage, owner_id = excluded.owner_id, score = excluded.score, policy_version = excluded.policy_version,
        last_event_seq = excluded.last_event_seq, updated_at = excluded.updated_at
      where l.last_event_seq < excluded.last_event_seq
    ),
    facts as (
      insert into lead_report_facts (event_id, lead_id, tier, source, type, at, counts, business_minutes, met_late, clock_started_at, reason)
      select inserted.id, input.lead_id, input.icp_tier,
        case when input.has_source then input.source else (select source from leads where leads.lead_id = input.lead_id) end,
        input.fact_type, input.at, input.counts, input.business_minutes, input.met_late, input.clock_started_at, input.reason
      from inserted join input using (idempotency_key)
      where input.fact_type is not null
    )
    ${carried === undefined ? sql`` : sql`, recorded as (${carried})`}
    select count(*)::int as written${carried === undefined ? sql`` : sql`, array(select idempotency_key from recorded) as recorded`} from inserted`);
  const row = firstRow<{ written: number; recorded?: string[] }>(result);
  await recordNextSteps(db, events);
  return carried === undefined ? { written: row?.written ?? 0 } : { written: row?.written ?? 0, recorded: row?.recorded ?? [] };
}

/**
 * Moves each lead's next step in the projection (leads.next_step_due_at, for pipeline hygiene) to the latest
 * next-step-set event among `events`, unless it already holds a later one. A statement of its own, and only for
 * the steps that set one: the projection row above moves only with a batch newer than everything it holds, and a
 * statement cannot update one row twice. Idempotent, and run on every attempt, so a retry after a failure between
 * the two statements completes it before the step answers.
 */
async function recordNextSteps(db: Database, events: readonly LeadAuditEvent[]): Promise<void> {
  const latest = new Map<string, LeadAuditEvent>();
  for (const event of events) {
    if (event.type !== 'next-step-set') continue;
    const seen = latest.get(event.leadId);
    if (!seen || seen.seq < event.seq) latest.set(event.leadId, event);
  }
  for (const event of latest.values()) {
    const dueAt = new Date(String(event.payload.dueAt));
    await db.execute(sql`
      update leads set next_step_due_at = ${Number.isNaN(dueAt.getTime()) ? null : dueAt.toISOString()}::timestamptz, next_step_seq = ${event.seq}
      where lead_id = ${event.leadId} and (next_step_seq is null or next_step_seq < ${event.seq})`);
  }
}

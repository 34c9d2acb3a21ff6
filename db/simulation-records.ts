import { sql, type SQL } from 'drizzle-orm';
import { resultRows, type Database } from './client.js';
import type { DealRecord, LeadRecord, MilestoneRecordRow, RecordedEvent } from '../domain/simulation/records.js';
import type { ReportRange } from './reports.js';

/**
 * The recorded history the policy simulator replays, read from the audit: every lead whose intake falls in
 * the window with the events a replay needs, and every deal won in the window with its milestones. Bounded:
 * at most `limit` leads and `limit` deals, the earliest first; `truncated` says when more were there.
 */

/** The events a replay reads: the intake, the people's steps, and what the workflow decided (the outcome). */
export const replayedEventTypes = [
  'received',
  'stage-changed',
  'routed',
  'routing-failed',
  'sla-breached',
  'escalated',
  'speed-to-lead-met',
  'returned-to-nurture',
  'accepted',
  'contact-attempted',
  'qualified',
  'score-changed',
  'paused',
  'resumed',
  'reassigned',
  'closed',
  'policy-migrated',
] as const;

async function rows<T>(db: Database, query: SQL): Promise<T[]> {
  return db.transaction(async (tx) => {
    // The window's events are read once, in order; JIT compiling costs more than the scan.
    await tx.execute(sql`set local jit = off`);
    return resultRows<T>(await tx.execute(query));
  });
}

const iso = (value: Date | string): string => new Date(value).toISOString();

export interface RecordedWindow {
  leads: LeadRecord[];
  deals: DealRecord[];
  truncated: { leads: boolean; deals: boolean };
}

export async function loadRecordedWindow(db: Database, range: ReportRange, limit: number): Promise<RecordedWindow> {
  const types = sql.join(
    replayedEventTypes.map((type) => sql`${type}`),
    sql`, `,
  );
  const leadRows = await rows<{ lead_id: string; seq: number; type: string; at: Date | string; actor: string; payload: Record<string, unknown>; policy_version: string }>(
    db,
    sql`
      with window_leads as (
        select lead_id, at from lead_events
        where type = 'received' and at >= ${range.from.toISOString()} and at < ${range.to.toISOString()}
        order by at, lead_id
        limit ${limit + 1}
      )
      select e.lead_id, e.seq, e.type, e.at, e.actor, e.payload, l.policy_version
      from window_leads w
      join leads l on l.lead_id = w.lead_id
      join lead_events e on e.lead_id = w.lead_id and e.type in (${types})
      order by w.at, w.lead_id, e.seq`,
  );
  const leads: LeadRecord[] = [];
  let current: LeadRecord | undefined;
  for (const row of leadRows) {
    if (current?.leadId !== row.lead_id) {
      current = { leadId: row.lead_id, policyVersion: row.policy_version, events: [] };
      leads.push(current);
    }
    const event: RecordedEvent = { seq: row.seq, type: row.type, at: iso(row.at), actor: row.actor, payload: row.payload };
    current.events.push(event);
  }

  const dealRows = await rows<{
    deal_id: string;
    policy_version: string;
    sales_owner_id: string;
    cs_owner_id: string | null;
    closed_won_at: Date | string;
    milestone: string | null;
    kind: string;
    started_at: Date | string;
    due_at: Date | string;
    done_at: Date | string | null;
    breached: boolean;
    reported_at: Date | string | null;
  }>(
    db,
    sql`
      with window_deals as (
        select deal_id, policy_version, sales_owner_id, cs_owner_id, closed_won_at from deals
        where closed_won_at >= ${range.from.toISOString()} and closed_won_at < ${range.to.toISOString()}
        order by closed_won_at, deal_id
        limit ${limit + 1}
      )
      select d.*, m.milestone, m.kind, m.started_at, m.due_at, m.done_at, m.breached, reported.at as reported_at
      from window_deals d
      left join deal_milestones m on m.deal_id = d.deal_id
      -- The event that completed the milestone (a later event, such as the handoff's completion, may have
      -- rewritten the row since): its time is when the system heard the milestone was done.
      left join lateral (
        select e.at from deal_events e
        where m.done_at is not null and e.deal_id = m.deal_id and (
          (m.kind = 'dossier' and e.type = 'dossier-delivered')
          or (m.kind = 'kickoff' and e.type = 'kickoff-held')
          or (m.kind = 'qbr' and e.type = 'qbr-held' and 'qbr-' || (e.payload->>'number') = m.milestone)
          or (m.kind like 'incident-%' and e.type = 'incident-resolved' and e.payload->>'incidentId' = m.milestone))
        order by e.seq
        limit 1
      ) reported on true
      order by d.closed_won_at, d.deal_id, m.started_at, m.milestone`,
  );
  const deals: DealRecord[] = [];
  let deal: DealRecord | undefined;
  for (const row of dealRows) {
    if (deal?.dealId !== row.deal_id) {
      deal = { dealId: row.deal_id, policyVersion: row.policy_version, salesOwnerId: row.sales_owner_id, csOwnerId: row.cs_owner_id, closedWonAt: iso(row.closed_won_at), milestones: [] };
      deals.push(deal);
    }
    if (row.milestone === null) continue;
    const milestone: MilestoneRecordRow = {
      milestone: row.milestone,
      kind: row.kind,
      startedAt: iso(row.started_at),
      dueAt: iso(row.due_at),
      doneAt: row.done_at === null ? null : iso(row.done_at),
      reportedAt: row.reported_at === null ? null : iso(row.reported_at),
      breached: row.breached,
    };
    deal.milestones.push(milestone);
  }
  return {
    leads: leads.slice(0, limit),
    deals: deals.slice(0, limit),
    truncated: { leads: leads.length > limit, deals: deals.length > limit },
  };
}

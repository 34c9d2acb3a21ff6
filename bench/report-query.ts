import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Database } from '../db/client.js';
import { rawLeadSlaReport, type ReportRange } from '../db/reports.js';
import * as schema from '../db/schema.js';
import { leadReportEventTypes } from '../domain/report-stats.js';

/**
 * BENCH STAND-IN for a management "lead SLA" report, written before the service had GET /reports/lead-sla:
 * timed instead of the endpoint when the API lacks it, and as a reference point when it has it. Per ICP tier, for the leads received in a window, how many were
 * routed, met speed-to-lead, breached, escalated to a manager, reassigned, returned to marketing, qualified
 * and won, with median / p90 minutes from routing to first contact. Plain SQL over lead_events + leads.
 */
export const LEAD_SLA_REPORT_SQL = `
with window_leads as (
  select lead_id from lead_events
  where type = 'received' and at >= $1 and at < $2
),
per_lead as (
  select e.lead_id,
    min(e.at) filter (where e.type = 'routed') as routed_at,
    min(e.at) filter (where e.type = 'speed-to-lead-met') as met_at,
    bool_or(e.type = 'sla-breached') as breached,
    max((e.payload->>'level')::int) filter (where e.type = 'escalated') as max_level,
    bool_or(e.type = 'returned-to-nurture' and e.payload->>'reason' = 'sla-expired') as expired,
    bool_or(e.type = 'qualified') as qualified,
    bool_or(e.type = 'closed' and e.payload->>'outcome' = 'won') as won
  from lead_events e
  join window_leads w on w.lead_id = e.lead_id
  group by e.lead_id
)
select l.icp_tier as tier,
  count(*)::int as leads,
  count(p.routed_at)::int as routed,
  count(p.met_at)::int as met,
  (count(*) filter (where p.breached))::int as breached,
  round(100.0 * count(*) filter (where p.breached) / nullif(count(p.routed_at), 0), 1) as breach_pct,
  round((percentile_cont(0.5) within group (order by extract(epoch from p.met_at - p.routed_at) / 60))::numeric, 1) as p50_minutes_to_contact,
  round((percentile_cont(0.9) within group (order by extract(epoch from p.met_at - p.routed_at) / 60))::numeric, 1) as p90_minutes_to_contact,
  (count(*) filter (where p.max_level >= 2))::int as manager_alerts,
  (count(*) filter (where p.max_level >= 3))::int as reassigned,
  (count(*) filter (where p.expired))::int as returned_to_marketing,
  (count(*) filter (where p.qualified))::int as qualified,
  (count(*) filter (where p.won))::int as won
from per_lead p
join leads l on l.lead_id = p.lead_id
group by l.icp_tier
order by l.icp_tier`;

export function leadSlaReport(sql: postgres.Sql, from: Date, to: Date) {
  return sql.unsafe(LEAD_SLA_REPORT_SQL, [from.toISOString(), to.toISOString()]);
}

const reportTypes = leadReportEventTypes.map((type) => `'${type}'`).join(', ');

/**
 * The report facts GET /reports/lead-sla reads, derived from lead_events' JSON and leads at query time (the
 * rules of domain/report-stats.ts leadReportFact, in SQL). Created as a temporary view, it is found before the
 * table of the same name, so the endpoint's own statement then answers the same question over plain events.
 */
export const EVENT_FACTS_VIEW_SQL = `
create temporary view lead_report_facts as
select e.id as event_id, e.lead_id, l.icp_tier as tier, l.source, e.type, e.at,
  coalesce(case e.type
    when 'received' then e.payload->>'stage' = 'MQL'
    when 'stage-changed' then e.payload->>'to' = 'MQL'
    when 'closed' then e.payload->>'outcome' = 'won'
    when 'sla-breached' then e.payload->>'deadline' = 'speed-to-lead'
    else true end, false) as counts,
  case when e.type = 'speed-to-lead-met' and jsonb_typeof(e.payload->'businessMinutes') = 'number' then (e.payload->>'businessMinutes')::float8 end as business_minutes,
  case when e.type = 'speed-to-lead-met' then coalesce(e.payload->'breached' = 'true'::jsonb, false) end as met_late,
  case when e.type = 'speed-to-lead-met' then (e.payload->>'startedAt')::timestamptz end as clock_started_at,
  case when e.type = 'returned-to-nurture' and jsonb_typeof(e.payload->'reason') = 'string' then e.payload->>'reason' end as reason
from lead_events e
join leads l on l.lead_id = e.lead_id
where e.type in (${reportTypes})`;

/**
 * The baseline for GET /reports/lead-sla: the report's raw statement (db/reports.ts rawLeadSlaQuery: the
 * window's facts joined to one another, no rollup) on a connection of its own where lead_report_facts is
 * EVENT_FACTS_VIEW_SQL, so the figures are the endpoint's and nothing is resolved at write time. Returns the
 * report runner and a close().
 */
export async function plainSqlLeadSlaReport(url: string): Promise<{ run: (range: ReportRange) => Promise<unknown>; close: () => Promise<void> }> {
  // One connection: a temporary view lives in its session only.
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(EVENT_FACTS_VIEW_SQL);
  const db = drizzle(sql, { schema }) as unknown as Database;
  return { run: (range) => rawLeadSlaReport(db, range), close: () => sql.end({ timeout: 5 }) };
}

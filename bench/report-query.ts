import type postgres from 'postgres';

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

/** The baseline: a plain count over the same window's leads, answered from the (type, at) index. */
export const RECEIVED_COUNT_SQL = `select count(*)::int as received from lead_events where type = 'received' and at >= $1 and at < $2`;

export function leadSlaReport(sql: postgres.Sql, from: Date, to: Date) {
  return sql.unsafe(LEAD_SLA_REPORT_SQL, [from.toISOString(), to.toISOString()]);
}

export function receivedCount(sql: postgres.Sql, from: Date, to: Date) {
  return sql.unsafe(RECEIVED_COUNT_SQL, [from.toISOString(), to.toISOString()]);
}

ALTER TABLE "lead_report_leads" ADD COLUMN "nurture_at" timestamp with time zone[];--> statement-breakpoint
ALTER TABLE "lead_report_leads" ADD COLUMN "nurture_reason" text[];--> statement-breakpoint
-- As in 0012, and each lead's returns to nurture with their reasons, so the report copy (db/lead-report-copy.ts)
-- counts the window's rejections by tier, source and reason from memory, as it counts closes from closed_at and
-- won. Both arrays are ordered by (instant, reason), so ties pair up the same way in each and a row re-resolved
-- from the same facts is the same row.
CREATE OR REPLACE FUNCTION revops_lead_report_rows(lead_ids text[]) RETURNS SETOF lead_report_leads LANGUAGE sql STABLE AS $$
  WITH per AS (
    SELECT f.lead_id,
      min(f.at) AS first_at, max(f.at) AS last_at,
      min(f.tier) AS tier, max(f.tier) AS max_tier,
      min(f.source) AS source, max(f.source) AS max_source, count(f.source) AS sources, count(*) AS facts,
      count(*) FILTER (WHERE f.type = 'received') AS receptions,
      min(f.at) FILTER (WHERE f.type = 'received') AS received_at,
      count(*) FILTER (WHERE f.type IN ('received', 'stage-changed') AND f.counts) AS mql_entries,
      min(f.at) FILTER (WHERE f.type IN ('received', 'stage-changed') AND f.counts) AS mql_at,
      count(*) FILTER (WHERE f.type = 'accepted') AS acceptances,
      min(f.at) FILTER (WHERE f.type = 'accepted') AS accepted_at,
      count(*) FILTER (WHERE f.type = 'qualified') AS qualifications,
      min(f.at) FILTER (WHERE f.type = 'qualified') AS qualified_at,
      count(*) FILTER (WHERE f.type = 'closed') AS closes,
      min(f.at) FILTER (WHERE f.type = 'closed') AS closed_at,
      bool_or(f.counts) FILTER (WHERE f.type = 'closed') AS won,
      count(*) FILTER (WHERE f.type = 'speed-to-lead-met') AS mets,
      min(f.at) FILTER (WHERE f.type = 'speed-to-lead-met') AS met_at,
      min(f.business_minutes) FILTER (WHERE f.type = 'speed-to-lead-met') AS met_minutes,
      bool_or(f.met_late) FILTER (WHERE f.type = 'speed-to-lead-met') AS met_flagged,
      min(f.clock_started_at) FILTER (WHERE f.type = 'speed-to-lead-met') AS clock_started_at,
      array_agg(f.at ORDER BY f.at) FILTER (WHERE f.type = 'sla-breached' AND f.counts) AS breach_at,
      (count(*) FILTER (WHERE f.type = 'contact-attempted'))::int AS attempts,
      array_agg(f.at ORDER BY f.at) FILTER (WHERE f.type = 'contact-attempted') AS attempt_at,
      array_agg(f.at ORDER BY f.at, f.reason) FILTER (WHERE f.type = 'returned-to-nurture') AS nurture_at,
      array_agg(f.reason ORDER BY f.at, f.reason) FILTER (WHERE f.type = 'returned-to-nurture') AS nurture_reason
    FROM lead_report_facts f
    WHERE f.lead_id = ANY (lead_ids)
    GROUP BY f.lead_id
  )
  SELECT p.lead_id,
    p.receptions <= 1 AND p.mql_entries <= 1 AND p.acceptances <= 1 AND p.qualifications <= 1 AND p.closes <= 1 AND p.mets <= 1
      AND p.tier = p.max_tier AND (p.sources = 0 OR (p.sources = p.facts AND p.source = p.max_source)),
    p.first_at, p.last_at, p.tier, p.source, p.received_at, p.mql_at, p.accepted_at, p.qualified_at, p.closed_at, p.won,
    p.met_at, p.met_minutes,
    CASE WHEN p.mets > 0 THEN p.met_flagged OR coalesce((SELECT bool_or(b >= p.clock_started_at AND b <= p.met_at) FROM unnest(p.breach_at) b), false) END,
    (SELECT array_agg(b ORDER BY b) FROM unnest(p.breach_at) b WHERE NOT coalesce(b >= p.clock_started_at AND b <= p.met_at, false)),
    CASE WHEN p.mql_at <= p.accepted_at THEN (extract(epoch FROM p.accepted_at - p.mql_at) / 3600)::float8 END,
    CASE WHEN p.accepted_at <= p.qualified_at THEN (extract(epoch FROM p.qualified_at - p.accepted_at) / 3600)::float8 END,
    CASE WHEN p.qualified_at <= p.closed_at THEN (extract(epoch FROM p.closed_at - p.qualified_at) / 3600)::float8 END,
    CASE WHEN p.won AND p.mql_at <= p.closed_at THEN extract(epoch FROM p.closed_at - p.mql_at) / 86400 END,
    p.attempts, p.attempt_at[1], p.attempt_at[array_length(p.attempt_at, 1)], p.attempt_at,
    p.nurture_at, p.nurture_reason
  FROM per p
$$;
--> statement-breakpoint
-- As in 0014, writing the two new columns.
CREATE OR REPLACE FUNCTION revops_refresh_lead_report_leads(lead_ids text[]) RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  WITH fresh AS (
    SELECT * FROM revops_lead_report_rows(lead_ids)
  ),
  gone AS (
    DELETE FROM lead_report_leads r
    WHERE r.lead_id = ANY (lead_ids) AND NOT EXISTS (SELECT 1 FROM fresh WHERE fresh.lead_id = r.lead_id)
    RETURNING r.lead_id
  ),
  written AS (
    INSERT INTO lead_report_leads AS r SELECT * FROM fresh
    ON CONFLICT (lead_id) DO UPDATE SET
      simple = excluded.simple, first_at = excluded.first_at, last_at = excluded.last_at, tier = excluded.tier, source = excluded.source,
      received_at = excluded.received_at, mql_at = excluded.mql_at, accepted_at = excluded.accepted_at, qualified_at = excluded.qualified_at,
      closed_at = excluded.closed_at, won = excluded.won, met_at = excluded.met_at, met_minutes = excluded.met_minutes,
      met_late = excluded.met_late, unmet_at = excluded.unmet_at, mql_hours = excluded.mql_hours, sal_hours = excluded.sal_hours,
      sql_hours = excluded.sql_hours, cycle_days = excluded.cycle_days, attempts = excluded.attempts,
      first_attempt_at = excluded.first_attempt_at, last_attempt_at = excluded.last_attempt_at, attempt_at = excluded.attempt_at,
      nurture_at = excluded.nurture_at, nurture_reason = excluded.nurture_reason
    WHERE r IS DISTINCT FROM excluded
    RETURNING r.lead_id
  )
  INSERT INTO lead_report_revisions AS v (lead_id, revision)
  SELECT lead_id, pg_current_xact_id() FROM (SELECT lead_id FROM gone UNION ALL SELECT lead_id FROM written) changed
  ON CONFLICT (lead_id) DO UPDATE SET revision = excluded.revision;
END $$;
--> statement-breakpoint
-- Only leads with a return to nurture change; each gets this transaction as its revision, so running copies read them again.
SELECT revops_refresh_lead_report_leads(ARRAY(SELECT DISTINCT lead_id FROM lead_report_facts WHERE type = 'returned-to-nurture'));

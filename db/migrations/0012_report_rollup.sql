CREATE TABLE "lead_report_leads" (
	"lead_id" text PRIMARY KEY NOT NULL,
	"simple" boolean NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"tier" integer NOT NULL,
	"source" text,
	"received_at" timestamp with time zone,
	"mql_at" timestamp with time zone,
	"accepted_at" timestamp with time zone,
	"qualified_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"won" boolean,
	"met_at" timestamp with time zone,
	"met_minutes" double precision,
	"met_late" boolean,
	"unmet_at" timestamp with time zone[],
	"mql_hours" double precision,
	"sal_hours" double precision,
	"sql_hours" double precision,
	"cycle_days" numeric,
	"attempts" integer NOT NULL,
	"first_attempt_at" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"attempt_at" timestamp with time zone[]
);
--> statement-breakpoint
CREATE INDEX "lead_report_leads_last_at_idx" ON "lead_report_leads" USING btree ("last_at");--> statement-breakpoint
CREATE INDEX "lead_report_leads_complex_idx" ON "lead_report_leads" USING btree ("first_at") WHERE not "lead_report_leads"."simple";--> statement-breakpoint
CREATE INDEX "lead_events_next_step_idx" ON "lead_events" USING btree ("lead_id","seq") WHERE "lead_events"."type" = 'next-step-set';--> statement-breakpoint
CREATE INDEX "lead_events_opportunity_update_idx" ON "lead_events" USING btree ("lead_id","at") WHERE "lead_events"."type" in ('qualified', 'opportunity-updated');--> statement-breakpoint
CREATE INDEX "lead_report_facts_lead_at_idx" ON "lead_report_facts" USING btree ("lead_id","at");--> statement-breakpoint
CREATE INDEX "leads_created_at_idx" ON "leads" USING btree ("created_at","lead_id");--> statement-breakpoint
-- The report row of each of `lead_ids` as its report facts resolve it now (no row for a lead without facts).
-- Every figure follows db/reports.ts's raw statement (rawLeadSlaQuery) for a lead with at most one of each stage
-- step and met clock: the stays' hours are that statement's `extract(epoch ...) / 3600` as float8, the cycle's
-- days its numeric `/ 86400`, so sums, means and percentiles over these rows are the same numbers.
CREATE FUNCTION revops_lead_report_rows(lead_ids text[]) RETURNS SETOF lead_report_leads LANGUAGE sql STABLE AS $$
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
      array_agg(f.at ORDER BY f.at) FILTER (WHERE f.type = 'contact-attempted') AS attempt_at
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
    p.attempts, p.attempt_at[1], p.attempt_at[array_length(p.attempt_at, 1)], p.attempt_at
  FROM per p
$$;
--> statement-breakpoint
-- Re-resolves the report rows of `lead_ids` from their facts: rows that changed are rewritten, rows of leads left
-- without facts removed, unchanged rows left alone (no write, no new row version). PL/pgSQL so the statement's
-- plan is prepared once per connection (revops_lead_report_rows is inlined into it), and generic from the first
-- call, not planned again on every step (planning it costs more than running it for one lead).
CREATE FUNCTION revops_refresh_lead_report_leads(lead_ids text[]) RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  WITH fresh AS (
    SELECT * FROM revops_lead_report_rows(lead_ids)
  ),
  gone AS (
    DELETE FROM lead_report_leads r
    WHERE r.lead_id = ANY (lead_ids) AND NOT EXISTS (SELECT 1 FROM fresh WHERE fresh.lead_id = r.lead_id)
  )
  INSERT INTO lead_report_leads AS r SELECT * FROM fresh
  ON CONFLICT (lead_id) DO UPDATE SET
    simple = excluded.simple, first_at = excluded.first_at, last_at = excluded.last_at, tier = excluded.tier, source = excluded.source,
    received_at = excluded.received_at, mql_at = excluded.mql_at, accepted_at = excluded.accepted_at, qualified_at = excluded.qualified_at,
    closed_at = excluded.closed_at, won = excluded.won, met_at = excluded.met_at, met_minutes = excluded.met_minutes,
    met_late = excluded.met_late, unmet_at = excluded.unmet_at, mql_hours = excluded.mql_hours, sal_hours = excluded.sal_hours,
    sql_hours = excluded.sql_hours, cycle_days = excluded.cycle_days, attempts = excluded.attempts,
    first_attempt_at = excluded.first_attempt_at, last_attempt_at = excluded.last_attempt_at, attempt_at = excluded.attempt_at
  WHERE r IS DISTINCT FROM excluded;
END $$;
--> statement-breakpoint
-- Statement-level, so the step's one audit statement (activities/lead-audit.ts) pays one refresh of its lead
-- however many facts it wrote, and a bulk load (COPY) one set-based refresh of all its leads.
CREATE FUNCTION revops_lead_report_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM revops_refresh_lead_report_leads(ARRAY(SELECT lead_id FROM old_facts UNION SELECT lead_id FROM new_facts));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM revops_refresh_lead_report_leads(ARRAY(SELECT lead_id FROM old_facts));
  ELSE
    PERFORM revops_refresh_lead_report_leads(ARRAY(SELECT lead_id FROM new_facts));
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER lead_report_facts_inserted AFTER INSERT ON lead_report_facts REFERENCING NEW TABLE AS new_facts
  FOR EACH STATEMENT EXECUTE FUNCTION revops_lead_report_facts_changed();
--> statement-breakpoint
CREATE TRIGGER lead_report_facts_updated AFTER UPDATE ON lead_report_facts REFERENCING OLD TABLE AS old_facts NEW TABLE AS new_facts
  FOR EACH STATEMENT EXECUTE FUNCTION revops_lead_report_facts_changed();
--> statement-breakpoint
CREATE TRIGGER lead_report_facts_deleted AFTER DELETE ON lead_report_facts REFERENCING OLD TABLE AS old_facts
  FOR EACH STATEMENT EXECUTE FUNCTION revops_lead_report_facts_changed();
--> statement-breakpoint
-- Closes and returns to nurture are counted straight from the facts, by time, without visiting the table.
CREATE INDEX "lead_report_facts_closed_at_idx" ON "lead_report_facts" USING btree ("at") INCLUDE ("tier", "counts") WHERE "type" = 'closed';
--> statement-breakpoint
CREATE INDEX "lead_report_facts_nurture_at_idx" ON "lead_report_facts" USING btree ("at") INCLUDE ("tier", "source", "reason") WHERE "type" = 'returned-to-nurture';
--> statement-breakpoint
-- Backfill: every lead's row from the facts written so far.
SELECT revops_refresh_lead_report_leads(ARRAY(SELECT DISTINCT lead_id FROM lead_report_facts));

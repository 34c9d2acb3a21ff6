CREATE TABLE "lead_report_revisions" (
	"lead_id" text PRIMARY KEY NOT NULL,
	"revision" "xid8" NOT NULL
);
--> statement-breakpoint
CREATE INDEX "lead_report_revisions_revision_idx" ON "lead_report_revisions" USING btree ("revision");--> statement-breakpoint
-- As in 0012, and each lead whose row was written or removed gets the writing transaction as its revision.
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
      first_attempt_at = excluded.first_attempt_at, last_attempt_at = excluded.last_attempt_at, attempt_at = excluded.attempt_at
    WHERE r IS DISTINCT FROM excluded
    RETURNING r.lead_id
  )
  INSERT INTO lead_report_revisions AS v (lead_id, revision)
  SELECT lead_id, pg_current_xact_id() FROM (SELECT lead_id FROM gone UNION ALL SELECT lead_id FROM written) changed
  ON CONFLICT (lead_id) DO UPDATE SET revision = excluded.revision;
END $$;
--> statement-breakpoint
INSERT INTO lead_report_revisions (lead_id, revision) SELECT lead_id, pg_current_xact_id() FROM lead_report_leads;

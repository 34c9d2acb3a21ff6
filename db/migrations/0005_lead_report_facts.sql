CREATE TABLE "lead_report_facts" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"tier" integer NOT NULL,
	"source" text,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"counts" boolean NOT NULL,
	"business_minutes" double precision,
	"met_late" boolean,
	"clock_started_at" timestamp with time zone,
	"reason" text
);
--> statement-breakpoint
ALTER TABLE "leads" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "lead_report_facts" ADD CONSTRAINT "lead_report_facts_event_id_lead_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."lead_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lead_report_facts_at_idx" ON "lead_report_facts" USING btree ("at");--> statement-breakpoint
-- Backfill: each lead's intake source from its first `received` event, then one report fact per lead event the report reads, derived exactly as domain/report-stats.ts leadReportFact derives them for new events.
UPDATE "leads" AS l SET "source" = r."source"
FROM (
	SELECT DISTINCT ON ("lead_id") "lead_id", CASE WHEN jsonb_typeof("payload"->'profile'->'source') = 'string' THEN "payload"->'profile'->>'source' END AS "source"
	FROM "lead_events" WHERE "type" = 'received' ORDER BY "lead_id", "seq"
) AS r
WHERE r."lead_id" = l."lead_id";--> statement-breakpoint
INSERT INTO "lead_report_facts" ("event_id", "lead_id", "tier", "source", "type", "at", "counts", "business_minutes", "met_late", "clock_started_at", "reason")
SELECT e."id", e."lead_id", l."icp_tier", l."source", e."type", e."at",
	CASE e."type"
		WHEN 'received' THEN coalesce(e."payload"->'stage' = '"MQL"'::jsonb, false)
		WHEN 'stage-changed' THEN coalesce(e."payload"->'to' = '"MQL"'::jsonb, false)
		WHEN 'closed' THEN coalesce(e."payload"->'outcome' = '"won"'::jsonb, false)
		WHEN 'sla-breached' THEN coalesce(e."payload"->'deadline' = '"speed-to-lead"'::jsonb, false)
		ELSE true
	END,
	CASE WHEN e."type" = 'speed-to-lead-met' AND jsonb_typeof(e."payload"->'businessMinutes') = 'number' THEN (e."payload"->>'businessMinutes')::float8 END,
	CASE WHEN e."type" = 'speed-to-lead-met' THEN coalesce(e."payload"->'breached' = 'true'::jsonb, false) END,
	CASE WHEN e."type" = 'speed-to-lead-met' AND jsonb_typeof(e."payload"->'startedAt') = 'string' THEN (e."payload"->>'startedAt')::timestamptz END,
	CASE WHEN e."type" = 'returned-to-nurture' AND jsonb_typeof(e."payload"->'reason') = 'string' THEN e."payload"->>'reason' END
FROM "lead_events" AS e
JOIN "leads" AS l ON l."lead_id" = e."lead_id"
WHERE e."type" IN ('received', 'stage-changed', 'accepted', 'contact-attempted', 'speed-to-lead-met', 'sla-breached', 'qualified', 'closed', 'returned-to-nurture')
ON CONFLICT ("event_id") DO NOTHING;

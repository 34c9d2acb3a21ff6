DROP INDEX "leads_stage_lead_idx";--> statement-breakpoint
ALTER TABLE "leads" ADD COLUMN "next_step_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "leads" ADD COLUMN "next_step_seq" integer;--> statement-breakpoint
-- Each lead's latest next step so far, from its audit (written by hand after drizzle-kit generate).
UPDATE "leads" AS l SET "next_step_due_at" = ns.due_at, "next_step_seq" = ns.seq
FROM (
  SELECT DISTINCT ON (e.lead_id) e.lead_id, e.seq, (e.payload->>'dueAt')::timestamptz AS due_at
  FROM "lead_events" e WHERE e.type = 'next-step-set' ORDER BY e.lead_id, e.seq DESC
) ns
WHERE ns.lead_id = l.lead_id;--> statement-breakpoint
CREATE INDEX "leads_stage_lead_idx" ON "leads" USING btree ("stage","lead_id","next_step_due_at");
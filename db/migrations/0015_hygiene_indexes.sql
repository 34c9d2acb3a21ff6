DROP INDEX "lead_events_opportunity_update_idx";--> statement-breakpoint
DROP INDEX "leads_stage_idx";--> statement-breakpoint
CREATE INDEX "lead_events_opportunity_update_at_idx" ON "lead_events" USING btree ("at","lead_id") WHERE "lead_events"."type" in ('qualified', 'opportunity-updated');--> statement-breakpoint
CREATE INDEX "leads_stage_lead_idx" ON "leads" USING btree ("stage","lead_id");
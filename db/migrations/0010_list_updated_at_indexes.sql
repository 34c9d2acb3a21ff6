CREATE INDEX "deals_updated_at_idx" ON "deals" USING btree ("updated_at","deal_id");--> statement-breakpoint
CREATE INDEX "leads_updated_at_idx" ON "leads" USING btree ("updated_at","lead_id");
CREATE INDEX "leads_company_lower_idx" ON "leads" USING btree (lower("company"));--> statement-breakpoint
CREATE INDEX "leads_owner_stage_idx" ON "leads" USING btree ("owner_id","stage");
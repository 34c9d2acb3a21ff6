CREATE TABLE "deal_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"deal_id" text NOT NULL,
	"workflow_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"payload" jsonb NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deal_events_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "deal_milestones" (
	"deal_id" text NOT NULL,
	"milestone" text NOT NULL,
	"kind" text NOT NULL,
	"workflow_id" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone,
	"actor" text,
	"breached" boolean NOT NULL,
	"business_minutes_taken" double precision,
	"business_minutes_late" double precision,
	"last_event_seq" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "deal_milestones_deal_id_milestone_pk" PRIMARY KEY("deal_id","milestone")
);
--> statement-breakpoint
CREATE TABLE "deals" (
	"deal_id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"account_name" text NOT NULL,
	"amount" numeric(18, 2) NOT NULL,
	"currency" text NOT NULL,
	"sales_owner_id" text NOT NULL,
	"cs_owner_id" text,
	"lead_id" text,
	"stage" text NOT NULL,
	"handoff_state" text NOT NULL,
	"policy_version" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"closed_won_at" timestamp with time zone NOT NULL,
	"last_event_seq" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "deal_events_deal_seq_idx" ON "deal_events" USING btree ("deal_id","seq");--> statement-breakpoint
CREATE INDEX "deal_milestones_due_idx" ON "deal_milestones" USING btree ("due_at");--> statement-breakpoint
CREATE INDEX "deals_stage_idx" ON "deals" USING btree ("stage");--> statement-breakpoint
CREATE INDEX "deals_cs_owner_idx" ON "deals" USING btree ("cs_owner_id");
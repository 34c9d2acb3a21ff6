CREATE TABLE "lead_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"workflow_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"payload" jsonb NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lead_events_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "leads" (
	"lead_id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"email" text NOT NULL,
	"company" text NOT NULL,
	"icp_tier" integer NOT NULL,
	"stage" text NOT NULL,
	"owner_id" text,
	"score" integer NOT NULL,
	"policy_version" text NOT NULL,
	"last_event_seq" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"version" text PRIMARY KEY NOT NULL,
	"document" jsonb NOT NULL,
	"author" text NOT NULL,
	"note" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "queue_members" (
	"queue_id" text NOT NULL,
	"rep_id" text NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "queue_members_queue_id_rep_id_pk" PRIMARY KEY("queue_id","rep_id")
);
--> statement-breakpoint
CREATE TABLE "queues" (
	"queue_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"strategy" text NOT NULL,
	"manager_id" text,
	"last_assigned_rep_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reps" (
	"rep_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"seniority" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"manager_id" text,
	"out_of_office" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "queue_members" ADD CONSTRAINT "queue_members_queue_id_queues_queue_id_fk" FOREIGN KEY ("queue_id") REFERENCES "public"."queues"("queue_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "queue_members" ADD CONSTRAINT "queue_members_rep_id_reps_rep_id_fk" FOREIGN KEY ("rep_id") REFERENCES "public"."reps"("rep_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lead_events_lead_seq_idx" ON "lead_events" USING btree ("lead_id","seq");--> statement-breakpoint
CREATE INDEX "lead_events_type_at_idx" ON "lead_events" USING btree ("type","at");--> statement-breakpoint
CREATE INDEX "leads_stage_idx" ON "leads" USING btree ("stage");--> statement-breakpoint
CREATE INDEX "leads_company_idx" ON "leads" USING btree ("company");
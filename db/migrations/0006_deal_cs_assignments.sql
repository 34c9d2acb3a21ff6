CREATE TABLE "deal_cs_assignments" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"deal_id" text NOT NULL,
	"queue_id" text NOT NULL,
	"rep_id" text NOT NULL,
	"reason" text NOT NULL,
	"manager_id" text,
	"assigned_at" timestamp with time zone NOT NULL
);

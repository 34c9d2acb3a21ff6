CREATE TABLE "lead_assignments" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"lead_id" text NOT NULL,
	"queue_id" text NOT NULL,
	"rep_id" text NOT NULL,
	"reason" text NOT NULL,
	"manager_id" text,
	"assigned_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"subject_id" text NOT NULL,
	"recipients" jsonb NOT NULL,
	"body" jsonb NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "notifications_subject_idx" ON "notifications" USING btree ("subject_id");
CREATE TABLE "erasures" (
	"subject" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"erased_at" timestamp with time zone NOT NULL,
	"erased_by" text NOT NULL,
	"reason" text NOT NULL,
	"workflow" text NOT NULL
);

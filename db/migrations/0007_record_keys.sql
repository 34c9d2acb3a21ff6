CREATE TABLE "record_keys" (
	"subject" text PRIMARY KEY NOT NULL,
	"wrapping_key_id" text NOT NULL,
	"wrapped_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"destroyed_at" timestamp with time zone
);

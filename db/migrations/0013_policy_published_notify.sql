-- Every API process keeps the current policy version in memory and reads it again only when this tells it a
-- policy was published (api/policy-store.ts), by any process or by hand: intake then needs no query for it.
CREATE FUNCTION revops_notify_policy_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('revops_policy_published', TG_OP);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER policies_published AFTER INSERT OR UPDATE OR DELETE ON policies FOR EACH ROW EXECUTE FUNCTION revops_notify_policy_published();

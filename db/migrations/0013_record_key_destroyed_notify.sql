-- Every process caches record keys (privacy/record-keys.ts). A destroyed key (an erasure) is announced here so
-- each of them drops it at once, whichever process erased the record; the caches then need no expiry.
CREATE FUNCTION revops_notify_record_key_destroyed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('revops_record_key_destroyed', OLD.subject);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER record_keys_destroyed AFTER UPDATE OF wrapped_key ON record_keys FOR EACH ROW
  WHEN (OLD.wrapped_key IS NOT NULL AND NEW.wrapped_key IS NULL) EXECUTE FUNCTION revops_notify_record_key_destroyed();
--> statement-breakpoint
CREATE TRIGGER record_keys_deleted AFTER DELETE ON record_keys FOR EACH ROW EXECUTE FUNCTION revops_notify_record_key_destroyed();

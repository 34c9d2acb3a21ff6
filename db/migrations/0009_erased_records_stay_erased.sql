-- An erased record stays erased: a write that was already on its way when the erasure ran (an audit activity
-- retried by a worker, a notification, a closing archive) must not bring the person's data back. Each such
-- write checks for the erasure; the erasure (privacy/erasure.ts) holds these four tables in SHARE ROW EXCLUSIVE
-- mode while it anonymises, so a write either commits before it (and is anonymised with the rest) or waits for
-- it and then sees it (and is dropped, or stored anonymised). A lock per row would exhaust the lock table on a
-- bulk load; an erasure is rare and takes milliseconds.
CREATE FUNCTION revops_is_erased(record text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM erasures WHERE erasures.subject = record)
$$;
--> statement-breakpoint
CREATE FUNCTION revops_drop_erased_lead_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF revops_is_erased(NEW.workflow_id) THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER lead_events_erased BEFORE INSERT ON lead_events FOR EACH ROW EXECUTE FUNCTION revops_drop_erased_lead_event();
--> statement-breakpoint
CREATE FUNCTION revops_anonymise_erased_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF revops_is_erased(NEW.workflow_id) THEN
    NEW.email := '[erased]';
    NEW.company := '[erased]';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER leads_erased BEFORE INSERT OR UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION revops_anonymise_erased_lead();
--> statement-breakpoint
CREATE FUNCTION revops_drop_erased_notification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF revops_is_erased(NEW.subject_id) THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER notifications_erased BEFORE INSERT OR UPDATE ON notifications FOR EACH ROW EXECUTE FUNCTION revops_drop_erased_notification();
--> statement-breakpoint
CREATE FUNCTION revops_drop_erased_archive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF revops_is_erased(NEW.workflow_id) THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER workflow_archives_erased BEFORE INSERT OR UPDATE ON workflow_archives FOR EACH ROW EXECUTE FUNCTION revops_drop_erased_archive();

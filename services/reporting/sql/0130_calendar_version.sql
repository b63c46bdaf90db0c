-- The version of the admin's calendar edits: every statement that changes calendar_days bumps
-- it in the same transaction, so a process that keeps the calendar in memory
-- (services/reporting/calendar_cache.py) reads one number to know whether it still holds.
-- Placeholders: {schema}, {app_role}.

CREATE TABLE {schema}.calendar_version (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    version  bigint NOT NULL
);
INSERT INTO {schema}.calendar_version (one, version) VALUES (true, 0);

CREATE FUNCTION {schema}.bump_calendar_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {schema}.calendar_version SET version = version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER calendar_days_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {schema}.calendar_days
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.bump_calendar_version();

GRANT SELECT, UPDATE ON {schema}.calendar_version TO {app_role};

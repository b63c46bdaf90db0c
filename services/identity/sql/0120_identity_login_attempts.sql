-- Failed-login counters, one row per username ('user:<name>') and per client address
-- ('addr:<address>'). Kept in PostgreSQL, not in memory, so that a lock holds across restarts
-- and across replicas. Not history: rows are updated in place and deleted when stale.
CREATE TABLE {schema}.login_attempts (
    key               text PRIMARY KEY,
    failures          integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    first_failure_at  timestamptz,
    locked_until      timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_updated_at ON {schema}.login_attempts (updated_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.login_attempts TO {app_role};

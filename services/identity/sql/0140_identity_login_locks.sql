-- The per-account lock escalates (services/identity/domain.py, LoginPolicy): each counter
-- remembers how many locks it has had since it was last reset (a success, an ADMIN's unlock,
-- or a quiet day after the last lock).
-- Placeholders: {schema}, {app_role}.
ALTER TABLE {schema}.login_attempts
    ADD COLUMN locks integer NOT NULL DEFAULT 0 CHECK (locks >= 0);

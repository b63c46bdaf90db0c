-- Every service's idempotent commands (infra/idempotency.py): the first answer to a user's
-- Idempotency-Key, kept with a fingerprint of the command so that a key reused for another
-- command is refused. response is json, not jsonb: a replay answers the very text first sent.
-- intake kept its submits' answers in this table before (0110_intake.sql): hence IF NOT EXISTS,
-- and this file's name, which sorts after every service's own files.

CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys (
    user_id      text NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    status_code  integer NOT NULL,
    response     json NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
ALTER TABLE {schema}.idempotency_keys ALTER COLUMN response TYPE json USING response::json;

-- Answers older than the retention are pruned a few at a time, oldest first.
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON {schema}.idempotency_keys (created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.idempotency_keys TO {app_role};

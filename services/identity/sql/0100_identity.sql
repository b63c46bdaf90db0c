-- identity's own tables beside its event store.
-- Credentials are secrets, not history: kept here, never in an event.
CREATE TABLE {schema}.credentials (
    user_id        text PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    password_hash  text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The directory: users as their events say, updated in the same transaction as each append.
CREATE TABLE {schema}.users (
    user_id    text PRIMARY KEY,
    username   text NOT NULL UNIQUE,
    full_name  text NOT NULL,
    nip        text,
    opd        text,
    roles      text[] NOT NULL DEFAULT '{{}}'
);

CREATE TABLE {schema}.opds (
    code  text PRIMARY KEY,
    name  text NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON {schema}.credentials TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.users TO {app_role};
GRANT SELECT, INSERT ON {schema}.opds TO {app_role};

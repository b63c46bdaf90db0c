-- approval's list of requests: one row per request it knows, the fold of its timeline, updated in
-- the same transaction as each command's append or each consumed event. Rebuildable from the
-- timeline at any time; never the source of truth.
CREATE TABLE {schema}.requests (
    request_id    text PRIMARY KEY,
    opd           text,
    title         text,
    status        text NOT NULL,
    current_step  text,
    who_must_act  text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_opd ON {schema}.requests (opd, updated_at);

GRANT SELECT, INSERT, UPDATE ON {schema}.requests TO {app_role};

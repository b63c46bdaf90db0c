-- dev_tracking's list of requests: one row per request it knows (TaskAssigned consumed), updated
-- in the same transaction as every append or consumed event. A read model only: the timeline
-- and the event store stay the truth, and the row can be rebuilt by folding the timeline.
CREATE TABLE {schema}.requests (
    request_id     text PRIMARY KEY,
    opd            text,
    letter_number  text,
    team_members   text[] NOT NULL,
    current_step   text NOT NULL,
    who_must_act   text,
    percent        integer,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_opd ON {schema}.requests (opd, updated_at);

GRANT SELECT, INSERT, UPDATE ON {schema}.requests TO {app_role};

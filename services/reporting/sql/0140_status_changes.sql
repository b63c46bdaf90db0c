-- The last CaseStatusChanged reported per request (services/reporting/status_feed.py): its
-- sequence number and where it left the request. Written in the projection's transaction, under
-- the request's lock, with the event it describes; the next change starts from here.
CREATE TABLE {schema}.status_reported (
    request_id    text PRIMARY KEY,
    sequence      integer NOT NULL CHECK (sequence >= 1),
    status        text NOT NULL,
    step          text NOT NULL,
    who_must_act  text,
    event_id      uuid NOT NULL,
    reported_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON {schema}.status_reported TO {app_role};

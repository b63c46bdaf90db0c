-- Each request as this service sees it: its own events and those it consumed from other
-- services, in the order it saw them. Commands fold it under a per-request advisory lock.
CREATE TABLE {schema}.timeline (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       text NOT NULL,
    event_id        uuid NOT NULL UNIQUE,
    event_type      text NOT NULL,
    schema_version  integer NOT NULL,
    payload         json NOT NULL,
    own             boolean NOT NULL
);
CREATE INDEX timeline_stream ON {schema}.timeline (stream_id, seq);

GRANT SELECT, INSERT ON {schema}.timeline TO {app_role};

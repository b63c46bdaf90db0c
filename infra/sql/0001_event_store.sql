-- The service's event store, its relay position and its consumer inbox.
-- actor and payload are json, not jsonb: json keeps the text as written, so every number
-- (1e300, -0.0) reads back exactly as it was hashed.
-- Placeholders: {schema} (the service's schema), {app_role} (its least-privileged login role).

CREATE TABLE {schema}.events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL UNIQUE,
    stream_id       text NOT NULL,
    stream_version  integer NOT NULL CHECK (stream_version >= 1),
    event_type      text NOT NULL,
    schema_version  integer NOT NULL CHECK (schema_version >= 1),
    occurred_at     timestamptz NOT NULL,
    actor           json NOT NULL,
    tenant          text NOT NULL,
    correlation_id  uuid NOT NULL,
    causation_id    uuid,
    payload         json NOT NULL,
    prev_hash       char(64) NOT NULL,
    hash            char(64) NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

-- Followers read in (txid, position) order, below the oldest running transaction.
CREATE INDEX events_txid_position ON {schema}.events (txid, position);

-- The outbox relay's progress: the last (txid, position) published to Kafka.
CREATE TABLE {schema}.relay_position (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    txid       xid8 NOT NULL,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {schema}.relay_position (txid, position) VALUES ('0', 0);

-- Every Kafka event this service has handled, recorded in the same transaction as its effect.
CREATE TABLE {schema}.processed_events (
    event_id    uuid PRIMARY KEY,
    topic       text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('handled', 'dead_lettered')),
    error       text,
    handled_at  timestamptz NOT NULL DEFAULT now()
);

-- Stored events are immutable for the application: it may read and append, never edit.
GRANT USAGE ON SCHEMA {schema} TO {app_role};
GRANT SELECT, INSERT ON {schema}.events TO {app_role};
GRANT SELECT, UPDATE ON {schema}.relay_position TO {app_role};
GRANT SELECT, INSERT ON {schema}.processed_events TO {app_role};

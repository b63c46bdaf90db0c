-- The durable delivery schedule of status changes to the tenant's e-office
-- (services/eoffice/schedule.py, docs/eoffice-webhook.md "Outbound").

-- One row per CaseStatusChanged consumed from jejak.reporting.events, recorded in the consumer's
-- transaction (the Kafka offset is committed after it). delivery_id is the change's event id: the
-- same on every attempt and re-send. body is the exact JSON posted on every attempt.
-- A PENDING row is sent when next_attempt_at has come and the request's previous change
-- (sequence - 1) is DELIVERED; a worker claims it by setting a lease, so that several replicas
-- never post the same row at once and a crashed worker's claim runs out.
CREATE TABLE {schema}.deliveries (
    delivery_id      uuid PRIMARY KEY,
    tenant           text NOT NULL,
    request_id       text NOT NULL,
    sequence         integer NOT NULL CHECK (sequence >= 1),
    correlation_id   uuid NOT NULL,
    body             text NOT NULL,
    state            text NOT NULL DEFAULT 'PENDING'
                     CHECK (state IN ('PENDING', 'DELIVERED', 'PARKED')),
    attempts         integer NOT NULL DEFAULT 0,
    total_attempts   integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    lease_token      uuid,
    leased_until     timestamptz,
    last_http_status integer,
    last_error       text,
    recorded_at      timestamptz NOT NULL,
    delivered_at     timestamptz,
    parked_at        timestamptz,
    resends          integer NOT NULL DEFAULT 0,
    resent_by        text,
    resent_at        timestamptz,
    UNIQUE (tenant, request_id, sequence)
);
CREATE INDEX deliveries_due ON {schema}.deliveries (next_attempt_at) WHERE state = 'PENDING';
CREATE INDEX deliveries_state ON {schema}.deliveries (state, recorded_at);
CREATE INDEX deliveries_request ON {schema}.deliveries (request_id, sequence);

-- Every attempt, for the admin's view of what went wrong.
CREATE TABLE {schema}.delivery_attempts (
    delivery_id  uuid NOT NULL REFERENCES {schema}.deliveries (delivery_id),
    attempt      integer NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    http_status  integer,
    error        text,
    PRIMARY KEY (delivery_id, attempt)
);

GRANT SELECT, INSERT, UPDATE ON {schema}.deliveries TO {app_role};
GRANT SELECT, INSERT ON {schema}.delivery_attempts TO {app_role};

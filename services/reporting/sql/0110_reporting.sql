-- reporting's read models. Everything here is derived from the envelopes in case_events (which
-- are the consumed events as received) and the admin's calendar edits: rebuildable at any time,
-- never the source of truth. Placeholders: {schema}, {app_role}.

-- Every consumed envelope of a request (identity's are not kept), exactly as delivered.
CREATE TABLE {schema}.case_events (
    event_id        uuid PRIMARY KEY,
    request_id      text NOT NULL,
    service         text NOT NULL,
    event_type      text NOT NULL,
    stream_version  integer NOT NULL,
    occurred_at     timestamptz NOT NULL,
    envelope        json NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_events_request ON {schema}.case_events (request_id, occurred_at);

-- The case list: one row per request, the fold of its envelopes (casefile.fold / case_row).
-- ``due_at`` is the earliest due instant of its open SLA rows; a query's ``overdue`` is
-- ``due_at < now`` at the time of asking, so it never goes stale between events.
CREATE TABLE {schema}.cases (
    request_id        text PRIMARY KEY,
    tenant            text NOT NULL,
    status            text NOT NULL,
    opd               text,
    title             text,
    current_step      text NOT NULL,
    step_number       integer NOT NULL,
    responsible_role  text,
    progress_percent  integer,
    submitted_at      timestamptz,
    updated_at        timestamptz,
    due_at            timestamptz,
    casefile          json NOT NULL,
    projected_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_opd ON {schema}.cases (opd, updated_at);
CREATE INDEX cases_status ON {schema}.cases (status, updated_at);
CREATE INDEX cases_step ON {schema}.cases (current_step);
CREATE INDEX cases_role ON {schema}.cases (responsible_role);
CREATE INDEX cases_due ON {schema}.cases (due_at) WHERE due_at IS NOT NULL;

-- One request's SLA summary (sla.request_sla) as of its last projection.
CREATE TABLE {schema}.request_sla (
    request_id       text PRIMARY KEY,
    opd              text,
    outcome          text NOT NULL,
    current_step     text,
    submitted_at     timestamptz,
    ended_at         timestamptz,
    lead_minutes     integer,
    waiting_minutes  integer NOT NULL
);

-- Each visit of a step (sla.SlaRow), replaced whole at every projection of its request.
CREATE TABLE {schema}.sla_rows (
    request_id        text NOT NULL,
    step              text NOT NULL,
    attempt           integer NOT NULL,
    opd               text,
    step_number       integer NOT NULL,
    responsible_role  text NOT NULL,
    supervisor_role   text,
    started_at        timestamptz NOT NULL,
    due_at            timestamptz,
    finished_at       timestamptz,
    status            text NOT NULL,
    row               json NOT NULL,
    PRIMARY KEY (request_id, step, attempt)
);
CREATE INDEX sla_rows_open_due ON {schema}.sla_rows (due_at) WHERE finished_at IS NULL;

-- The admin's edits of the tenant's working calendar over the Indonesian defaults.
CREATE TABLE {schema}.calendar_days (
    tenant      text NOT NULL,
    day         date NOT NULL,
    off         boolean NOT NULL,
    note        text NOT NULL,
    by_user     text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, day)
);

-- Every SlaBreached reporting emitted: at most one per visit of a step.
CREATE TABLE {schema}.sla_breaches (
    request_id   text NOT NULL,
    step         text NOT NULL,
    attempt      integer NOT NULL,
    due_at       timestamptz NOT NULL,
    breached_at  timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    PRIMARY KEY (request_id, step, attempt)
);

GRANT SELECT, INSERT ON {schema}.case_events TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.cases TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.request_sla TO {app_role};
GRANT SELECT, INSERT, DELETE ON {schema}.sla_rows TO {app_role};
GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.calendar_days TO {app_role};
GRANT SELECT, INSERT ON {schema}.sla_breaches TO {app_role};

-- The documents service (services/documents): the events it renders from, the documents, their
-- PDFs and the registers (Buku Agenda) that number them.

-- Every consumed event it may need, as received (the JSON text), in the consumer's transaction:
-- a document is built from its request's events and the people up to its source event.
CREATE TABLE {schema}.source_events (
    event_id     uuid PRIMARY KEY,
    service      text NOT NULL,
    stream_id    text NOT NULL,
    event_type   text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    envelope     text NOT NULL
);
CREATE INDEX source_events_stream ON {schema}.source_events (stream_id, occurred_at);
CREATE INDEX source_events_people ON {schema}.source_events (occurred_at)
    WHERE service = 'identity';

-- The requesting OPD of each request: the scope of a requester's reads.
CREATE TABLE {schema}.requests (
    request_id  text PRIMARY KEY,
    opd         text NOT NULL
);

-- One row per document a source event produces. PENDING until issued; a document whose
-- render failed is FAILED with the reason (no number taken) until an admin retries it.
CREATE TABLE {schema}.documents (
    document_id      uuid PRIMARY KEY,
    tenant           text NOT NULL,
    request_id       text NOT NULL,
    kind             text NOT NULL,
    source_event_id  uuid NOT NULL REFERENCES {schema}.source_events (event_id),
    source_at        timestamptz NOT NULL,
    state            text NOT NULL DEFAULT 'PENDING'
                     CHECK (state IN ('PENDING', 'ISSUED', 'FAILED')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    failed_at        timestamptz,
    retried_by       text,
    retried_at       timestamptz,
    retry_note       text,
    number           text,
    number_source    text CHECK (number_source IN ('REGISTER', 'TYPED')),
    register_code    text,
    register_year    integer,
    sequence         integer,
    document_date    date,
    final            boolean,
    signers          jsonb,
    sha256           text,
    unsigned_sha256  text,
    issued_at        timestamptz,
    recorded_at      timestamptz NOT NULL,
    UNIQUE (source_event_id, kind),
    UNIQUE (register_code, register_year, sequence)
);
CREATE INDEX documents_due ON {schema}.documents (next_attempt_at, source_at)
    WHERE state = 'PENDING';
CREATE INDEX documents_request ON {schema}.documents (request_id, recorded_at);
CREATE INDEX documents_register ON {schema}.documents (issued_at) WHERE state = 'ISSUED';

-- The issued PDF, as downloaded and as its sha256 says.
CREATE TABLE {schema}.document_files (
    document_id  uuid PRIMARY KEY REFERENCES {schema}.documents (document_id),
    pdf          bytea NOT NULL
);

-- One sequence per classification code and year: the last number taken.
CREATE TABLE {schema}.registers (
    code           text NOT NULL,
    year           integer NOT NULL,
    last_sequence  integer NOT NULL CHECK (last_sequence >= 1),
    PRIMARY KEY (code, year)
);

GRANT SELECT, INSERT ON {schema}.source_events TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.requests TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.documents TO {app_role};
GRANT SELECT, INSERT ON {schema}.document_files TO {app_role};
GRANT SELECT, INSERT, UPDATE ON {schema}.registers TO {app_role};
